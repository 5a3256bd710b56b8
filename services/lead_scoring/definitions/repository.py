"""Queries of lead definitions, their audit trail and their rescoring runs. No commits here: commands commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.lead_scoring.models import DefinitionAudit, KnownField, LeadDefinitionVersion, RescoreJob


def definition_by_id(session: Session, *, definition_id: uuid.UUID) -> LeadDefinitionVersion | None:
    """A definition (draft or version) by id, or None."""
    return session.get(LeadDefinitionVersion, definition_id)


def published_row(session: Session) -> LeadDefinitionVersion | None:
    """The version in force, if any."""
    return session.scalar(select(LeadDefinitionVersion).where(LeadDefinitionVersion.status == "published"))


def row_of_version(session: Session, *, version: int) -> LeadDefinitionVersion | None:
    """A published (or formerly published) version by its number, or None."""
    return session.scalar(select(LeadDefinitionVersion).where(LeadDefinitionVersion.version == version))


def highest_version(session: Session) -> int:
    """The highest version number ever published (0 before the first)."""
    return session.scalar(select(func.max(LeadDefinitionVersion.version))) or 0


def all_definitions(session: Session) -> list[LeadDefinitionVersion]:
    """Every draft and version, newest first."""
    return list(session.scalars(select(LeadDefinitionVersion).order_by(LeadDefinitionVersion.created_at.desc())))


def audit_trail(session: Session, *, definition_id: uuid.UUID) -> list[DefinitionAudit]:
    """What was done to a definition, oldest first."""
    query = select(DefinitionAudit).where(DefinitionAudit.definition_id == definition_id).order_by(DefinitionAudit.id)
    return list(session.scalars(query))


def delete_audit_trail(session: Session, *, definition_id: uuid.UUID) -> None:
    """Delete a definition's audit trail (with the draft it belongs to)."""
    session.execute(delete(DefinitionAudit).where(DefinitionAudit.definition_id == definition_id))


def rescore_jobs(session: Session) -> list[RescoreJob]:
    """Every rescoring run, newest first."""
    return list(session.scalars(select(RescoreJob).order_by(RescoreJob.created_at.desc())))


def known_fields(session: Session) -> list[tuple[str, str]]:
    """Every (kind, name) seen in what was ingested: kind is path or touch_type."""
    return [(kind, name) for kind, name in session.execute(select(KnownField.kind, KnownField.name))]


def add_known_fields(session: Session, *, fields: Sequence[tuple[str, str]], now: datetime) -> None:
    """Store these (kind, name) pairs as first seen `now`; pairs stored already are left as they are."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = [{"kind": kind, "name": name, "first_seen_at": now} for kind, name in fields]
    session.execute(insert(KnownField).on_conflict_do_nothing(), rows)
