"""Keeping the projection: lead.scored moves a contact's stage and scores, lead.qualified brings the contact, the
account, the committee and the touches, definition.published the agreed SLA and reasons.

Events may arrive late or twice (two partitions, a replay): a contact or account changes only for an event at
least as new as the one it last took, so the final state is the same whatever the order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from events.catalog import DefinitionPublished, LeadQualified, LeadScored
from services.handoff.pending import PendingRows
from services.handoff.projection import repository
from services.handoff.projection.models import ProjectedAccount, ProjectedContact, PublishedTerms
from services.handoff.sla.terms import required_roles_of


class Projection:
    """The contacts and accounts a batch touches, loaded once; the new ones wait in `rows` for the batch's end."""

    def __init__(
        self,
        session: Session,
        contact_ids: Iterable[uuid.UUID],
        account_ids: Iterable[uuid.UUID],
        rows: PendingRows,
    ) -> None:
        self.rows = rows
        self.contacts = repository.contacts(session, set(contact_ids))
        self.accounts = repository.accounts(session, set(account_ids))

    def contact(self, contact_id: uuid.UUID, account_key: str, at: datetime) -> ProjectedContact:
        """The contact's row, created empty when new."""
        row = self.contacts.get(contact_id)
        if row is None:
            row = ProjectedContact(
                contact_id=contact_id, account_key=account_key, details={}, recent_touches=[], updated_at=at
            )
            self.rows.add(row)
            self.contacts[contact_id] = row
        return row

    def scored(self, data: LeadScored, at: datetime) -> None:
        """A lead's stage or scores changed."""
        row = self.contact(data.contact_id, data.account_key, at)
        if at < row.updated_at:
            return
        row.account_id, row.account_key, row.stage = data.account_id, data.account_key, data.stage
        row.fit_score, row.fit_grade, row.engagement_score = data.fit_score, data.fit_grade, data.engagement_score
        row.updated_at = at

    def qualified(self, data: LeadQualified, at: datetime) -> None:
        """A lead qualified: the contact, the account and the committee as lead_scoring knows them now."""
        row = self.contact(data.contact_id, data.account_key, at)
        if at >= row.updated_at:
            contact = data.contact
            row.account_id, row.account_key, row.email = data.account_id, data.account_key, contact.email
            row.name = " ".join(part for part in (contact.first_name, contact.last_name) if part) or None
            row.title, row.buying_role = contact.title, contact.buying_role or row.buying_role
            row.details = contact.model_dump(mode="json", exclude={"contact_id", "email", "title", "buying_role"})
            row.stage, row.fit_score, row.fit_grade = "mql", data.score.fit_score, data.score.fit_grade
            row.engagement_score = data.score.engagement_score
            row.recent_touches = [touch.model_dump(mode="json") for touch in data.recent_touches]
            row.last_touch_at = data.recent_touches[0].occurred_at if data.recent_touches else row.last_touch_at
            row.updated_at = at
        for member in data.buying_committee:
            if member.contact_id == data.contact_id:
                continue
            other = self.contact(member.contact_id, data.account_key, at)
            if at >= other.updated_at:
                other.account_id, other.email, other.name, other.title = (
                    data.account_id, member.email, member.name, member.title,
                )  # fmt: skip
                other.buying_role = member.buying_role or other.buying_role
                other.stage, other.engagement_score = member.stage, member.engagement_score
                other.last_touch_at, other.updated_at = member.last_touch_at, at
        if data.account is not None:
            self._account(data, at)

    def _account(self, data: LeadQualified, at: datetime) -> None:
        summary = data.account
        assert summary is not None  # checked by the caller
        row = self.accounts.get(summary.account_id)
        if row is None:
            row = ProjectedAccount(account_id=summary.account_id, updated_at=at)
            self.rows.add(row)
            self.accounts[summary.account_id] = row
        elif at < row.updated_at:
            return
        row.account_key, row.name, row.domain = data.account_key, summary.name, summary.domain
        row.industry, row.employees, row.country = summary.industry, summary.employees, summary.country
        row.crm_account_id, row.engaged_contacts, row.updated_at = (
            summary.crm_account_id, summary.engaged_contacts, at,
        )  # fmt: skip


def published(session: Session, data: DefinitionPublished, at: datetime) -> None:
    """A definition version is in force: keep its SLA, reasons and committee roles (a rollback publishes again)."""
    row = session.get(PublishedTerms, data.version)
    if row is None:
        row = PublishedTerms(version=data.version, published_at=at)
        session.add(row)
    elif at < row.published_at:
        return
    row.name, row.published_at = data.name, at
    row.sla = data.sla.model_dump(mode="json")
    row.rejection_reasons = [reason.model_dump(mode="json") for reason in data.rejection_reasons]
    row.required_roles = required_roles_of(data.document)
