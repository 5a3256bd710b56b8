"""What scoring an account reads and writes, loaded and stored in bulk: a batch of touches spans hundreds of
accounts.

Reads are plain rows (a contact as a `Member`, a lead as a `LeadState` with the engine's state), not ORM objects.
An account's other contacts are read only when the engine needs them (see scoring.engine). Lead writes are kept
as pending rows and stored by one statement per batch.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from database.queries import among, rows
from services.lead_scoring.models import Account, Contact, Lead, SalesOutcome, Touch
from services.lead_scoring.scoring.engine import AccountBook
from services.lead_scoring.scoring.lifecycle import LeadState


@dataclass(frozen=True)
class Member:
    """A contact as its account's evaluation reads it: a snapshot, taken again whenever a handler changed it."""

    id: uuid.UUID
    email: str | None
    account_id: uuid.UUID | None
    attributes: Mapping[str, Any]
    buying_role: str | None
    consent: str
    erased_at: datetime | None
    updated_at: datetime  # when it was last identified: an instant its account was evaluated at

    @classmethod
    def of(cls, contact: Contact) -> Member:
        """The snapshot of a contact as it is now."""
        return cls(
            contact.id,
            contact.email,
            contact.account_id,
            dict(contact.attributes),
            contact.buying_role,
            contact.consent,
            contact.erased_at,
            contact.updated_at,
        )


@dataclass
class Scope:
    """An account (or a contact without one) and its book of leads."""

    account: Account | None
    book: AccountBook


# What scoring reads of a contact (a `Member`, in this order).
MEMBER_COLUMNS = (
    Contact.id,
    Contact.email,
    Contact.account_id,
    Contact.attributes,
    Contact.buying_role,
    Contact.consent,
    Contact.erased_at,
    Contact.updated_at,
)
_STATE_FIELDS = tuple(LeadState.__dataclass_fields__)


def members_of_accounts(session: Session, account_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Member]]:
    """The live (not merged) contacts of these accounts, by account, each account's in id order."""
    found: dict[uuid.UUID, list[Member]] = defaultdict(list)
    if account_ids:
        query = (
            select(*MEMBER_COLUMNS)
            .where(among(session, Contact.account_id, account_ids), Contact.merged_into.is_(None))
            .order_by(Contact.id)
        )
        for row in rows(session, query):
            found[row.account_id].append(Member(*row))
    return found


def members_without_account(session: Session, contact_ids: Collection[uuid.UUID]) -> list[Member]:
    """Those of these contacts that are live and have no account, each a scope of its own, locked until the
    transaction ends.

    A scope is evaluated under the lock of its account's row (`repository.accounts`), or of its contact's row for a
    contact without an account: the consumer of a partition and the rescorer may both evaluate an account, and
    each must start from the leads the other committed, or both would qualify the same lead.
    """
    if not contact_ids:
        return []
    query = (
        select(*MEMBER_COLUMNS)
        .where(among(session, Contact.id, contact_ids), Contact.account_id.is_(None), Contact.merged_into.is_(None))
        .order_by(Contact.id)
        .with_for_update()
    )
    return [Member(*row) for row in rows(session, query)]


def members(session: Session, contact_ids: Collection[uuid.UUID]) -> list[Member]:
    """These contacts, as scoring reads them."""
    if not contact_ids:
        return []
    return [
        Member(*row) for row in rows(session, select(*MEMBER_COLUMNS).where(among(session, Contact.id, contact_ids)))
    ]


StoredLead = tuple[LeadState, dict[str, Any] | None]  # the lead's state and the engine's (scoring.engine.stored)


def leads_of_accounts(
    session: Session, account_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, dict[uuid.UUID, StoredLead]]:
    """The stored leads of the live contacts of these accounts, by account and contact."""
    found: dict[uuid.UUID, dict[uuid.UUID, StoredLead]] = defaultdict(dict)
    if account_ids:
        columns = [getattr(Lead, name) for name in _STATE_FIELDS]
        query = (
            select(Contact.account_id, Lead.contact_id, Lead.engine, *columns)
            .join(Contact, Contact.id == Lead.contact_id)
            .where(among(session, Contact.account_id, account_ids), Contact.merged_into.is_(None))
        )
        for account_id, contact_id, engine, *state in rows(session, query):
            found[account_id][contact_id] = (LeadState(*state), engine)
    return found


def leads_of_contacts(session: Session, contact_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, StoredLead]:
    """The stored leads of these contacts."""
    if not contact_ids:
        return {}
    columns = [getattr(Lead, name) for name in _STATE_FIELDS]
    query = select(Lead.contact_id, Lead.engine, *columns).where(among(session, Lead.contact_id, contact_ids))
    return {contact_id: (LeadState(*state), engine) for contact_id, engine, *state in rows(session, query)}


def rejections_of(
    session: Session, contact_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[datetime, str | None]]]:
    """Sales' rejections of these contacts' handoffs (when, the reason), oldest first."""
    found: dict[uuid.UUID, list[tuple[datetime, str | None]]] = defaultdict(list)
    if contact_ids:
        query = (
            select(SalesOutcome.contact_id, SalesOutcome.at, SalesOutcome.reason)
            .where(among(session, SalesOutcome.contact_id, contact_ids), SalesOutcome.outcome == "rejected")
            .order_by(SalesOutcome.at)
        )
        for contact_id, at, reason in rows(session, query):
            found[contact_id].append((at, reason))
    return found


@dataclass
class Writes:
    """Touch and lead rows written by a batch, stored together by `flush` (the last write of a lead wins).

    Pending rows are invisible to queries: flush before reading or deleting touches or leads with SQL.
    """

    _touches: list[dict[str, Any]] = field(default_factory=list)
    _scored: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)

    def touch(self, row: dict[str, Any]) -> None:
        """A new touch row (the columns of `Touch`)."""
        self._touches.append(row)

    def scored(
        self,
        contact_id: uuid.UUID,
        account_id: uuid.UUID | None,
        state: LeadState,
        explanation: dict[str, Any],
        at: datetime,
        engine: dict[str, Any],
    ) -> None:
        """The lead's new state with the explanation of its scores and the engine's state."""
        self._scored[contact_id] = {
            "contact_id": contact_id,
            "account_id": account_id,
            **{name: getattr(state, name) for name in _STATE_FIELDS},
            "explanation": explanation,
            "scored_at": at,
            "engine": engine,
        }

    def flush(self, session: Session) -> None:
        """Store the pending rows: one insert of the touches, one upsert for the scored leads."""
        if self._touches:
            session.execute(insert(Touch), self._touches)
        if self._scored:
            upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            statement = upsert(Lead)
            columns = [name for name in next(iter(self._scored.values())) if name != "contact_id"]
            statement = statement.on_conflict_do_update(
                index_elements=[Lead.contact_id], set_={name: statement.excluded[name] for name in columns}
            )
            session.execute(statement, list(self._scored.values()))
        self._touches.clear()
        self._scored.clear()


def contact_attributes(contact: Contact | Member) -> dict[str, Any]:
    """The contact as the fit rules see it: its traits, plus email, email domain and buying role."""
    attributes = dict(contact.attributes)
    if contact.email:
        attributes["email"] = contact.email
        attributes["email_domain"] = contact.email.rsplit("@", 1)[1]
    if contact.buying_role:
        attributes["buying_role"] = contact.buying_role
    return attributes


def account_attributes(account: Account) -> dict[str, Any]:
    """The account as the fit rules see it."""
    return {**account.attributes, "domain": account.domain, "name": account.name}
