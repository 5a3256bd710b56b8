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

from events.catalog.touches import ContactErased, ContactIdentified, TouchRecorded
from events.registry import Event
from services.lead_scoring.matching import repository as matching_repository
from services.lead_scoring.matching.domain import ContactCandidate, Identity, match_contact
from services.lead_scoring.matching.resolve import NAMESPACE, new_contact_id
from services.lead_scoring.schemas import TouchedOut

NO_EMAIL = "no email and no external id leadflow knows yet: the contact gets its id when the touch is handled"


def touched_contacts(session: Session, items: Sequence[Sequence[Event[Any]]], now: datetime) -> list[TouchedOut]:
    """Per accepted item (its events), the contact and lead it touches; items earlier in the request count.

    Three queries whatever the number of items: the known contacts, and which derived ids are taken already.
    """
    identities = [next((found for event in events if (found := _identity(event.data))), None) for events in items]
    emails = {identity.email for identity in identities if identity and identity.email}
    pairs = {pair for identity in identities if identity for pair in identity.external_ids}
    pool = _Pool(matching_repository.contact_candidates(session, emails, pairs))
    derived = {email: uuid.uuid5(NAMESPACE, f"contact:{email}") for email in emails}
    taken = matching_repository.existing_contact_ids(session, list(derived.values()))  # by contacts erased since
    answers = []
    for identity in identities:
        contact_id = None
        if identity is not None:
            match = match_contact(identity, pool.near(identity))
            email = identity.email
            contact_id = match.contact_id
            if contact_id is None and email is not None:
                contact_id = derived[email] if derived[email] not in taken else new_contact_id(session, email)
                pool.add(ContactCandidate(contact_id, now, email, identity.external_ids))
        answers.append(TouchedOut(contact_id=contact_id, lead_id=contact_id, why_none=None if contact_id else NO_EMAIL))
    return answers


class _Pool:
    """Candidate contacts by email and by external id, so each item is matched against its own few."""

    def __init__(self, candidates: Sequence[ContactCandidate]) -> None:
        self._by_key: dict[object, list[ContactCandidate]] = {}
        for candidate in candidates:
            self.add(candidate)

    def add(self, candidate: ContactCandidate) -> None:
        """Know one more candidate (a contact this request creates)."""
        for key in [candidate.email, *candidate.external_ids]:
            if key is not None:
                self._by_key.setdefault(key, []).append(candidate)

    def near(self, identity: Identity) -> list[ContactCandidate]:
        """The candidates sharing the identity's email or one of its external ids."""
        keys = [identity.email, *identity.external_ids]
        found = {id(c): c for key in keys if key is not None for c in self._by_key.get(key, [])}
        return list(found.values())


def _identity(data: Any) -> Identity | None:
    """The identity an item's event names, built once per event (its email normalised there)."""
    if isinstance(data, TouchRecorded):
        return Identity.of(data.contact)
    if isinstance(data, ContactIdentified) or (isinstance(data, ContactErased) and data.email):
        return Identity.of(data)
    return None
