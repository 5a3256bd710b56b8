"""Which contact (and so which lead) each accepted ingest item touches, as the ingest answer tells the sender.

The consumer matches identities later; this says now which contact that matching will find or create: the known
contact with the email or an external id, else the id derived from the normalised email (the lead id is the
contact id). An item with no email and no known external id has no contact yet: its id is made when it is handled.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from events.catalog.common import ContactIdentity
from events.catalog.touches import ContactErased, ContactIdentified, TouchRecorded
from events.registry import Event
from services.lead_scoring import repository
from services.lead_scoring.accounts import new_contact_id
from services.lead_scoring.matching import ContactCandidate, external_id_pairs, match_contact
from services.lead_scoring.normalise import normalise_email
from services.lead_scoring.schemas import TouchedOut

NO_EMAIL = "no email and no external id leadflow knows yet: the contact gets its id when the touch is handled"


def touched_contacts(session: Session, items: Sequence[Sequence[Event[Any]]], now: datetime) -> list[TouchedOut]:
    """Per accepted item (its events), the contact and lead it touches; items earlier in the request count."""
    created: list[ContactCandidate] = []  # contacts this request will create, for the items after it
    answers = []
    for events in items:
        identity = next((found for event in events if (found := _identity(event.data))), None)
        contact_id = _contact_id(session, identity, created, now) if identity else None
        answers.append(TouchedOut(contact_id=contact_id, lead_id=contact_id, why_none=None if contact_id else NO_EMAIL))
    return answers


def _identity(data: Any) -> ContactIdentity | None:
    if isinstance(data, TouchRecorded):
        return data.contact
    if isinstance(data, ContactIdentified):
        return ContactIdentity(email=data.email, external_ids=data.external_ids)
    if isinstance(data, ContactErased) and data.email:
        return ContactIdentity(email=data.email, external_ids=data.external_ids)
    return None


def _contact_id(
    session: Session, identity: ContactIdentity, created: list[ContactCandidate], now: datetime
) -> uuid.UUID | None:
    email = normalise_email(identity.email) if identity.email else None
    pairs = external_id_pairs(identity.external_ids)
    known = repository.contact_candidates(session, [email] if email else [], pairs)
    match = match_contact(identity, [*known, *created])
    if match.contact_id is not None:
        return match.contact_id
    if email is None:
        return None
    contact_id = new_contact_id(session, email)
    created.append(ContactCandidate(contact_id, now, email, pairs))
    return contact_id
