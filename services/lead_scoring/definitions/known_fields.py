"""The custom field paths and touch types seen in what was ingested, and the warnings they give definitions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from services.lead_scoring.definitions import repository
from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.definitions.field_paths import FieldWarning, field_warnings, known_paths, known_touch_types

# Per database: the (kind, name) pairs known to be stored; a batch inserts only those not seen committed.
_STORED: dict[str, set[tuple[str, str]]] = {}


def record(session: Session, seen: Collection[tuple[str, str]], now: datetime) -> None:
    """Store the (kind, name) pairs not stored yet, in the caller's transaction; remembered once it commits."""
    bind = session.get_bind()
    stored = _STORED.setdefault(str(bind.engine.url), set())
    fresh = sorted(set(seen) - stored)  # sorted: concurrent batches take the rows' locks in one order
    if not fresh:
        return
    repository.add_known_fields(session, fields=fresh, now=now)
    event.listen(session, "after_commit", lambda _: stored.update(fresh), once=True)


def seen(session: Session) -> tuple[list[str], list[str]]:
    """The custom field paths and the touch types seen so far."""
    rows = repository.known_fields(session)
    return [name for kind, name in rows if kind == "path"], [name for kind, name in rows if kind == "touch_type"]


def known(session: Session) -> tuple[list[str], list[str]]:
    """Every path a definition can read with data behind it, and every touch type known (catalog and seen)."""
    paths, touch_types = seen(session)
    return known_paths(paths), known_touch_types(touch_types)


def warnings_for(session: Session, definition: LeadDefinition) -> list[FieldWarning]:
    """The definition's rules that read a path or touch type never seen."""
    paths, touch_types = known(session)
    return field_warnings(definition, set(paths), touch_types)
