"""Reads of the projection: contacts and accounts by id, the terms of a definition version. No commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.queries import among
from services.handoff.projection.models import ProjectedAccount, ProjectedContact, PublishedTerms
from services.handoff.sla.terms import DEFAULT_TERMS, HandoffTerms, terms_of


def contacts(session: Session, contact_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ProjectedContact]:
    """The projected contacts among `contact_ids`."""
    if not contact_ids:
        return {}
    query = select(ProjectedContact).where(among(session, ProjectedContact.contact_id, list(contact_ids)))
    return {row.contact_id: row for row in session.scalars(query)}


def accounts(session: Session, account_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ProjectedAccount]:
    """The projected accounts among `account_ids`."""
    if not account_ids:
        return {}
    query = select(ProjectedAccount).where(among(session, ProjectedAccount.account_id, list(account_ids)))
    return {row.account_id: row for row in session.scalars(query)}


def account_contacts(session: Session, account_id: uuid.UUID) -> list[ProjectedContact]:
    """The projected contacts of an account."""
    return list(session.scalars(select(ProjectedContact).where(ProjectedContact.account_id == account_id)))


def terms(session: Session, version: int | None) -> HandoffTerms:
    """The terms of a definition version; else those of the latest publication; else the defaults."""
    row = session.get(PublishedTerms, version) if version is not None else None
    if row is None:
        row = session.scalars(select(PublishedTerms).order_by(PublishedTerms.published_at.desc()).limit(1)).first()
    if row is None:
        return DEFAULT_TERMS
    return terms_of(row.version, row.sla, row.rejection_reasons, row.required_roles)
