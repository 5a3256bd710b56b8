"""Queries of the contact projection; no commits."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.nurture.contacts.domain import Profile
from services.nurture.contacts.models import NurtureContact


def by_id(session: Session, contact_id: uuid.UUID) -> NurtureContact | None:
    """The projected contact of that id, if nurture has heard of it."""
    return session.get(NurtureContact, contact_id)


def by_email(session: Session, email: str) -> NurtureContact | None:
    """The projected contact with that email (compared lower-cased), if nurture has heard of it."""
    query = select(NurtureContact).where(NurtureContact.email == email.strip().lower()).limit(1)
    return session.scalars(query).first()


def profile(row: NurtureContact) -> Profile:
    """The contact as the decisions read it."""
    return Profile(
        stage=row.stage,
        fit_grade=row.fit_grade,
        industry=row.industry,
        employees=row.employees,
        country=row.country,
        time_zone=row.time_zone,
        buying_role=row.buying_role,
        source=row.source,
        campaigns=tuple(row.campaigns or ()),
        email=row.email,
        marketing_consent=row.marketing_consent,
        unsubscribed_at=row.unsubscribed_at,
        erased_at=row.erased_at,
    )
