"""Queries of the contact projection; no commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.nurture.contacts.models import NurtureContact
from services.nurture.tracks.matching import LeadProfile


def by_id(session: Session, contact_id: uuid.UUID) -> NurtureContact | None:
    """The projected contact of that id, if nurture has heard of it."""
    return session.get(NurtureContact, contact_id)


def by_ids(session: Session, contact_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, NurtureContact]:
    """The projected contacts of those ids that nurture has heard of."""
    if not contact_ids:
        return {}
    query = select(NurtureContact).where(NurtureContact.contact_id.in_(sorted(contact_ids)))
    return {row.contact_id: row for row in session.scalars(query)}


def by_email(session: Session, email: str) -> NurtureContact | None:
    """The projected contact with that email (compared lower-cased), if nurture has heard of it."""
    query = select(NurtureContact).where(NurtureContact.email == email.strip().lower()).limit(1)
    return session.scalars(query).first()


def profile(
    row: NurtureContact, *, recycle_reason: str | None = None, engaged_content: Collection[str] = ()
) -> LeadProfile:
    """The contact as the decisions read it; why sales sent it back and what it engaged with, when known."""
    return LeadProfile(
        stage=row.stage,
        fit_grade=row.fit_grade,
        industry=row.industry,
        employees=row.employees,
        country=row.country,
        time_zone=row.time_zone,
        buying_role=row.buying_role,
        recycle_reason=recycle_reason,
        source=row.source,
        campaigns=frozenset(row.campaigns or ()),
        engaged_content=frozenset(engaged_content),
        email=row.email,
        marketing_consent=row.marketing_consent,
        unsubscribed_at=row.unsubscribed_at,
        erased_at=row.erased_at,
    )
