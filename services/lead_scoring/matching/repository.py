"""Queries of contacts and accounts for matching: candidates by email, external id, domain or name. No commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import delete, or_, select, tuple_
from sqlalchemy.orm import Session

from database.queries import among, rows
from services.lead_scoring.matching.domain import AccountCandidate, ContactCandidate
from services.lead_scoring.models import Account, Contact, ContactExternalId, Touch


def contact_candidates(
    session: Session, emails: Collection[str], external_ids: Collection[tuple[str, str]]
) -> list[ContactCandidate]:
    """Contacts that have one of these (normalised) emails or external ids, with all their ids."""
    conditions = []
    if emails:
        conditions.append(Contact.email.in_(emails))
    if external_ids:
        by_id = select(ContactExternalId.contact_id).where(
            tuple_(ContactExternalId.system, ContactExternalId.value).in_(list(external_ids))
        )
        conditions.append(Contact.id.in_(by_id))
    if not conditions:
        return []
    contacts = list(
        session.scalars(
            select(Contact).where(or_(*conditions), Contact.merged_into.is_(None), Contact.erased_at.is_(None))
        )
    )
    ids = external_ids_of(session, [contact.id for contact in contacts])
    return [
        ContactCandidate(contact.id, contact.created_at, contact.email, frozenset(ids.get(contact.id, ())))
        for contact in contacts
    ]


def external_ids_of(session: Session, contact_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, set[tuple[str, str]]]:
    """Every external id of these contacts."""
    found: dict[uuid.UUID, set[tuple[str, str]]] = defaultdict(set)
    if contact_ids:
        rows = session.execute(
            select(ContactExternalId.contact_id, ContactExternalId.system, ContactExternalId.value).where(
                ContactExternalId.contact_id.in_(contact_ids)
            )
        )
        for contact_id, system, value in rows:
            found[contact_id].add((system, value))
    return found


def account_candidates(
    session: Session, *, ids: Iterable[str], domains: Iterable[str], names: Iterable[str]
) -> list[AccountCandidate]:
    """Accounts with one of these ids (leadflow or CRM), domains, or normalised names."""
    conditions = []
    ids = [value for value in ids if value]
    uuids = [uuid.UUID(value) for value in ids if _is_uuid(value)]
    if ids:
        conditions.append(Account.external_id.in_(ids))
    if uuids:
        conditions.append(Account.id.in_(uuids))
    if domains := list(domains):
        conditions.append(Account.domain.in_(domains))
    if names := list(names):
        conditions.append(Account.normalised_name.in_(names))
    if not conditions:
        return []
    return [
        AccountCandidate(
            account.id,
            account.created_at,
            account.external_id,
            frozenset([account.domain] if account.domain else []),
            account.name,
        )
        for account in session.scalars(select(Account).where(or_(*conditions)))
    ]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def contacts_by_email(session: Session, emails: Collection[str]) -> list[Contact]:
    """Live contacts with these normalised emails."""
    if not emails:
        return []
    return list(
        session.scalars(select(Contact).where(among(session, Contact.email, emails), Contact.merged_into.is_(None)))
    )


def existing_contact_ids(session: Session, contact_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these contact ids are taken (erased contacts included)."""
    if not contact_ids:
        return set()
    return set(rows(session, select(Contact.id).where(among(session, Contact.id, contact_ids))).scalars())


def emails_by_external_id(session: Session, system: str, values: Collection[str]) -> dict[str, str]:
    """The emails of known contacts by their id in `system` (e.g. HubSpot's, whose webhooks carry no email)."""
    if not values:
        return {}
    query = (
        select(ContactExternalId.value, Contact.email)
        .join(Contact, Contact.id == ContactExternalId.contact_id)
        .where(ContactExternalId.system == system, ContactExternalId.value.in_(list(values)))
        .where(Contact.email.is_not(None))
    )
    return {value: email for value, email in session.execute(query) if email}


def contact(session: Session, contact_id: uuid.UUID | None) -> Contact | None:
    """A contact by id (None for None)."""
    return session.get(Contact, contact_id) if contact_id else None


def merged_into(session: Session, survivor: uuid.UUID) -> set[uuid.UUID]:
    """The contacts merged into `survivor`."""
    return set(session.scalars(select(Contact.id).where(Contact.merged_into == survivor)))


def forget_touches_and_ids(session: Session, contact_id: uuid.UUID) -> None:
    """Delete a contact's touches and external ids (the right to be forgotten)."""
    session.execute(delete(Touch).where(Touch.contact_id == contact_id))
    session.execute(delete(ContactExternalId).where(ContactExternalId.contact_id == contact_id))
