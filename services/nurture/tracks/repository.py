"""Queries of track versions and nurture settings, and their compiled forms; no commits.

Compiled forms are kept by their documents' text (one process may serve several databases, as tests do, so
a key and a version alone could name two documents): the scheduler firing thousands of steps compiles each
track once, not once per step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.nurture.tracks.compiled import CompiledSettings, CompiledTrack, compile_settings, compile_track
from services.nurture.tracks.models import SettingsVersion, TrackVersion

_MAX_CACHED = 1_000
_tracks: dict[tuple[str, int, str], CompiledTrack] = {}
_settings: dict[str, CompiledSettings] = {}


def versions(session: Session, key: str) -> list[TrackVersion]:
    """Every version of a track, oldest first (empty: no such track)."""
    query = select(TrackVersion).where(TrackVersion.key == key).order_by(TrackVersion.version)
    return list(session.scalars(query))


def track_version(session: Session, key: str, version: int) -> TrackVersion | None:
    """One version of a track."""
    return session.get(TrackVersion, (key, version))


def latest(session: Session, key: str, *, for_update: bool = False) -> TrackVersion | None:
    """The newest version of a track (locked for a change when asked)."""
    query = select(TrackVersion).where(TrackVersion.key == key).order_by(TrackVersion.version.desc()).limit(1)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def latest_versions(session: Session) -> list[TrackVersion]:
    """The newest version of every track, by key."""
    newest = select(TrackVersion.key, func.max(TrackVersion.version).label("version")).group_by(TrackVersion.key)
    subquery = newest.subquery()
    query = (
        select(TrackVersion)
        .join(subquery, (TrackVersion.key == subquery.c.key) & (TrackVersion.version == subquery.c.version))
        .order_by(TrackVersion.key)
    )
    return list(session.scalars(query))


def active_versions(session: Session) -> list[TrackVersion]:
    """The active version of every track that has one (the newest, should two ever be active), by key."""
    query = select(TrackVersion).where(TrackVersion.status == "active").order_by(TrackVersion.key, TrackVersion.version)
    by_key = {row.key: row for row in session.scalars(query)}
    return list(by_key.values())


def in_status(session: Session, key: str, statuses: Sequence[str]) -> list[TrackVersion]:
    """The versions of a track in one of `statuses`, oldest first."""
    query = (
        select(TrackVersion)
        .where(TrackVersion.key == key, TrackVersion.status.in_(list(statuses)))
        .order_by(TrackVersion.version)
    )
    return list(session.scalars(query))


def save(session: Session, row: TrackVersion | SettingsVersion) -> None:
    """Add a new track version or settings version to the session (the handler commits)."""
    session.add(row)


def current_settings_row(session: Session) -> SettingsVersion | None:
    """The newest version of the nurture settings, if any was saved."""
    query = select(SettingsVersion).order_by(SettingsVersion.version.desc()).limit(1)
    return session.scalars(query).first()


def settings(session: Session) -> CompiledSettings:
    """The settings in force, compiled (the defaults while none was saved)."""
    row = current_settings_row(session)
    return _compiled_settings(row.document if row else {})


def compiled(session: Session, row: TrackVersion) -> CompiledTrack:
    """A stored version, compiled against the settings in force."""
    settings_row = current_settings_row(session)
    settings_text = _text(settings_row.document if settings_row else {})
    cache_key = (settings_text + _text(row.document), row.version, row.key)
    found = _tracks.get(cache_key)
    if found is None:
        found = compile_track(
            row.document, _compiled_settings(settings_row.document if settings_row else {}), version=row.version
        )
        _remember(_tracks, cache_key, found)
    return found


def _compiled_settings(document: dict[str, Any]) -> CompiledSettings:
    text = _text(document)
    found = _settings.get(text)
    if found is None:
        found = compile_settings(document)
        _remember(_settings, text, found)
    return found


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def active_tracks(session: Session) -> list[CompiledTrack]:
    """The active version of every track, compiled: what a lead may enter now."""
    return [compiled(session, row) for row in active_versions(session)]


def compiled_version(session: Session, key: str, version: int) -> CompiledTrack | None:
    """A given version of a track, compiled (an enrollment stays on the version it entered)."""
    row = track_version(session, key, version)
    return None if row is None else compiled(session, row)


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _MAX_CACHED:
        cache.clear()
    cache[key] = value
