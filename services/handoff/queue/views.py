"""A handoff row as the API answers it: the summary in the queue, the detail with its dossier.

The caller passes the sales org in force, read once per request: a page of 50 once read it per row (an N+1).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from services.handoff import repository
from services.handoff.domain import actions_for_people
from services.handoff.models import HandoffRecord
from services.handoff.org.domain import CurrentOrg
from services.handoff.projection import repository as projected
from services.handoff.queue.repository import sla_state
from services.handoff.queue.schemas import HandoffDetail, HandoffSummary, RepOut, SlaOut


def rep_out(current: CurrentOrg | None, rep_id: uuid.UUID | None) -> RepOut | None:
    """A rep with their email, name and team when the sales org knows them."""
    if rep_id is None:
        return None
    profile = current.reps.get(rep_id) if current else None
    if profile is None:
        return RepOut(rep_id=rep_id)
    return RepOut(rep_id=rep_id, email=profile.email, name=profile.name, team=profile.team)


def summary(row: HandoffRecord, now: datetime, current: CurrentOrg | None) -> HandoffSummary:
    """The handoff as the queue lists it."""
    contact = row.dossier.get("contact") or {}
    account = row.dossier.get("account")
    name = " ".join(part for part in (contact.get("first_name"), contact.get("last_name")) if part) or None
    return HandoffSummary(
        handoff_id=row.id,
        version=row.version,
        status=row.status,
        allowed_actions=list(actions_for_people(repository.state_of(row).status)),
        lead_id=row.lead_id,
        contact={"name": name, "email": contact.get("email"), "title": contact.get("title")},
        account=None if account is None else {"account_id": account.get("account_id"), "name": account.get("name")},
        rep=rep_out(current, row.rep_id),
        fit_grade=row.fit_grade,
        score=row.score,
        sla=SlaOut(
            state=sla_state(row, now),
            warn_at=row.warn_at,
            due_at=row.due_at if row.status == "assigned" else None,
            breach_count=row.breach_count,
            escalated_to=rep_out(current, row.escalated_to),
        ),
        definition_version=row.definition_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def detail(session: Session, row: HandoffRecord, now: datetime, current: CurrentOrg | None) -> HandoffDetail:
    """The handoff with its dossier, the agreed rejection reasons, and its outcome so far."""
    terms = projected.terms(session, row.definition_version)
    return HandoffDetail(
        **summary(row, now, current).model_dump(),
        dossier=row.dossier,
        rejection_reasons=[
            {"code": code, "label": terms.labels.get(code, code.replace("_", " "))} for code in terms.allowed_codes
        ],
        accepted_at=row.accepted_at,
        time_to_accept_hours=row.time_to_accept_hours,
        rejection_reason=row.rejection_reason,
        opportunity=row.opportunity,
        outcome=row.outcome,
        closed_at=row.closed_at,
    )
