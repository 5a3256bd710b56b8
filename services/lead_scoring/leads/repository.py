"""Queries of the leads API (the lead list, one lead, an account with its contacts) and of rescoring. No commits
here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from services.lead_scoring.definitions.document import Ranking
from services.lead_scoring.models import Account, Contact, Lead, LeadDefinitionVersion, RescoreJob, SalesOutcome

LeadSort = Literal["score", "updated"]


_HALF_A_CENT = 0.005


@dataclass(frozen=True)
class LeadQuery:
    """Which leads to list, in which order, from where: `after` is the sort key and lead id the last page ended on."""

    ranking: Ranking
    email: str | None = None
    account_id: uuid.UUID | None = None
    stage: str | None = None
    fit_grade: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    updated_since: datetime | None = None
    sort: LeadSort = "score"
    after: tuple[float | datetime, uuid.UUID] | None = None
    limit: int = 50


def find_leads(session: Session, query: LeadQuery) -> list[tuple[Lead, Contact, float | datetime]]:
    """Leads of live contacts matching the filters, best first (ties by lead id, descending), with their sort key.

    Keyset pagination: the page starts after `query.after`, so a lead scored between two pages neither repeats
    nor hides another.
    """
    combined = query.ranking.fit_weight * Lead.fit_score + query.ranking.engagement_weight * Lead.engagement_score
    key: Any = combined if query.sort == "score" else Lead.scored_at
    conditions: list[Any] = [Contact.merged_into.is_(None)]
    if query.email is not None:
        conditions.append(Contact.email == query.email)
    if query.account_id is not None:
        conditions.append(Lead.account_id == query.account_id)
    if query.stage is not None:
        conditions.append(Lead.stage == query.stage)
    if query.fit_grade is not None:
        conditions.append(Lead.fit_grade == query.fit_grade)
    # The bounds compare with the score as shown (two decimals): a lead shown at 41.27 passes min_score=41.27.
    if query.min_score is not None:
        conditions.append(combined >= query.min_score - _HALF_A_CENT)
    if query.max_score is not None:
        conditions.append(combined < query.max_score + _HALF_A_CENT)
    if query.updated_since is not None:
        conditions.append(Lead.scored_at >= query.updated_since)
    if query.after is not None:
        last_key, last_id = query.after
        conditions.append(or_(key < last_key, and_(key == last_key, Lead.contact_id < last_id)))
    statement = (
        select(Lead, Contact, key.label("sort_key"))
        .join(Contact, Contact.id == Lead.contact_id)
        .where(*conditions)
        .order_by(key.desc(), Lead.contact_id.desc())
        .limit(query.limit)
    )
    return [(lead, contact, sort_key) for lead, contact, sort_key in session.execute(statement)]


def lead_with_contact(session: Session, *, lead_id: uuid.UUID) -> tuple[Lead, Contact] | None:
    """A lead and its contact (a lead's id is its contact's), or None when either is missing."""
    lead = session.get(Lead, lead_id)
    contact = session.get(Contact, lead_id)
    return None if lead is None or contact is None else (lead, contact)


def account_by_id(session: Session, *, account_id: uuid.UUID) -> Account | None:
    """An account, or None."""
    return session.get(Account, account_id)


def contacts_of_account(session: Session, *, account_id: uuid.UUID) -> list[Contact]:
    """The live (not merged) contacts of an account."""
    query = select(Contact).where(Contact.account_id == account_id, Contact.merged_into.is_(None)).order_by(Contact.id)
    return list(session.scalars(query))


def leads_of(session: Session, *, contact_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Lead]:
    """The lead rows of these contacts."""
    if not contact_ids:
        return {}
    return {lead.contact_id: lead for lead in session.scalars(select(Lead).where(Lead.contact_id.in_(contact_ids)))}


def next_rescore_job(session: Session) -> RescoreJob | None:
    """The oldest unfinished rescore job, locked (one rescorer works on it at a time; others skip it)."""
    return session.scalar(
        select(RescoreJob)
        .where(RescoreJob.status.in_(("pending", "running")))
        .order_by(RescoreJob.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def version_in_force(session: Session) -> int | None:
    """The published definition's version."""
    return session.scalar(select(LeadDefinitionVersion.version).where(LeadDefinitionVersion.status == "published"))


def live_contact_count(session: Session) -> int:
    """How many contacts are live (not merged into another)."""
    return session.scalar(select(func.count()).where(Contact.merged_into.is_(None))) or 0


def scope_keys_after(session: Session, cursor: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """The next scopes in key order: accounts, and contacts without one (a scope keyed by the contact)."""
    scope_key = func.coalesce(Contact.account_id, Contact.id)
    query = select(scope_key).where(Contact.merged_into.is_(None)).group_by(scope_key).order_by(scope_key)
    if cursor is not None:
        query = query.where(scope_key > cursor)
    return list(session.scalars(query.limit(limit)))


def accepted_since(
    session: Session, since: dict[uuid.UUID, datetime | None], outcomes: Sequence[str]
) -> set[uuid.UUID]:
    """Those of these contacts with one of `outcomes` at or after their own instant in `since` (None: ever)."""
    if not since:
        return set()
    query = select(SalesOutcome.contact_id, SalesOutcome.at).where(
        SalesOutcome.contact_id.in_(list(since)), SalesOutcome.outcome.in_(list(outcomes))
    )
    return {cid for cid, at in session.execute(query) if (start := since[cid]) is None or at >= start}
