"""The projection: lead.scored, lead.qualified, lead.disqualified, contact.erased and touches kept in nurture's table.

Each function applies one fact to the contact row and returns it; enrollment decides what the change means.
"""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from datetime import datetime

from sqlalchemy.orm import Session

from events.catalog import ContactErased, ContactIdentified, LeadScored, TouchRecorded
from events.catalog.common import LeadRef
from services.nurture.contacts import repository
from services.nurture.contacts.domain import UNSUBSCRIBE, touched
from services.nurture.contacts.models import NurtureContact

# The contacts a consumer batch loaded at once, by id: None for an id nurture has not heard of (yet).
Known = MutableMapping[uuid.UUID, NurtureContact | None]


def _find(session: Session, contact_id: uuid.UUID, known: Known | None) -> NurtureContact | None:
    if known is not None and contact_id in known:
        return known[contact_id]
    return repository.by_id(session, contact_id)


def _row(session: Session, lead: LeadRef, stage: str, at: datetime, known: Known | None) -> NurtureContact:
    row = _find(session, lead.contact_id, known)
    if row is None:
        row = NurtureContact(
            contact_id=lead.contact_id, account_key=lead.account_key, stage=stage, campaigns=[], updated_at=at
        )
        session.add(row)
        if known is not None:
            known[lead.contact_id] = row
    return row


def scored(session: Session, data: LeadScored, at: datetime, known: Known | None = None) -> NurtureContact:
    """A lead's score or stage changed: stage, fit and profile as of the newest lead.scored."""
    row = _row(session, data, data.stage, at, known)
    if row.scored_at is not None and at < row.scored_at:
        return row  # an older score arrived late: the newer one stands
    row.account_key, row.stage, row.fit_grade, row.scored_at, row.updated_at = (
        data.account_key,
        data.stage,
        data.fit_grade,
        at,
        at,
    )
    profile = data.profile
    if profile is not None and row.erased_at is None:
        row.email = profile.email.strip().lower() if profile.email else row.email
        row.industry, row.employees, row.country = profile.industry, profile.employees, profile.country
        row.time_zone, row.buying_role = profile.time_zone, profile.buying_role
        if profile.marketing_consent is not None:
            row.marketing_consent = profile.marketing_consent
        if profile.unsubscribed and row.unsubscribed_at is None:
            row.unsubscribed_at = at
    return row


def staged(session: Session, lead: LeadRef, stage: str, at: datetime, known: Known | None = None) -> NurtureContact:
    """lead.qualified or lead.disqualified: the stage it names (and, when qualified, the time it did)."""
    row = _row(session, lead, stage, at, known)
    row.stage, row.updated_at = stage, at
    if stage == "mql":
        row.mql_at = at
    return row


def erased(session: Session, data: ContactErased, at: datetime, known: Known | None = None) -> NurtureContact | None:
    """contact.erased: nothing that names the person is kept; the row stays, so that it is never nurtured again."""
    row = _find(session, data.contact_id, known) if data.contact_id else None
    if row is None and data.email:
        row = repository.by_email(session, data.email)
    if row is None:
        return None
    row.email = row.industry = row.time_zone = row.buying_role = row.country = row.source = None
    row.employees, row.campaigns, row.erased_at, row.updated_at = None, [], at, at
    return row


def touch(session: Session, data: TouchRecorded, at: datetime) -> NurtureContact | None:
    """A touch of a contact nurture knows (by email): its campaign and first source; an unsubscribe is consent gone."""
    email = data.contact.email
    row = repository.by_email(session, email) if email else None
    if row is None:
        return None
    row.campaigns = touched(row.campaigns or [], data.campaign)
    row.source = row.source or data.channel
    if data.touch_type == UNSUBSCRIBE and row.unsubscribed_at is None:
        row.unsubscribed_at = at
    row.updated_at = at
    return row


def identified(session: Session, data: ContactIdentified, at: datetime) -> NurtureContact | None:
    """contact.identified: consent withdrawn in marketing automation is consent gone here too."""
    row = repository.by_email(session, data.email)
    if row is None:
        return None
    if data.traits.marketing_consent is not None:
        row.marketing_consent = data.traits.marketing_consent
        row.updated_at = at
    return row
