"""Commands on tracks and the nurture settings: load, decide, save, commit. Owned by marketing ops.

A version's life: draft -> active <-> paused, and retired when another version of the track is activated.
Editing a track whose newest version is a draft changes that draft; otherwise it makes a new draft version,
so an enrollment stays on the version it entered. Saving a document equal to the newest version's changes
nothing, so loading the same file twice makes no new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from eventlog.unit_of_work import UnitOfWork
from services.nurture.tracks import repository
from services.nurture.tracks.compiled import compile_settings, compile_track, parse_track
from services.nurture.tracks.document import NurtureSettings
from services.nurture.tracks.models import SettingsVersion, TrackVersion
from services.nurture.tracks.problems import TrackError, TrackProblem


class TrackNotFound(LookupError):  # noqa: N818 - an outcome the API answers with 404
    """No track (or version) of that key."""


class TrackConflict(Exception):  # noqa: N818 - an outcome the API answers with 409
    """The track's state refuses the command now; the message says what is in the way."""


def validate(uow: UnitOfWork, document: Mapping[str, Any]) -> list[TrackProblem]:
    """The problems of a track document against the settings in force; nothing is saved."""
    try:
        compile_track(document, repository.settings(uow.session))
    except TrackError as error:
        return error.problems
    return []


def create_track(uow: UnitOfWork, document: Mapping[str, Any], *, by: str, now: datetime) -> TrackVersion:
    """A new track, as version 1 in draft."""
    track = _checked(uow, document)
    exists = f"track `{track['key']}` exists: PUT /v1/nurture/tracks/{track['key']} makes a new version"
    if repository.latest(uow.session, track["key"]) is not None:
        raise TrackConflict(exists)
    row = _version(track, 1, by=by, now=now)
    repository.save(uow.session, row)
    _commit_new(uow, exists)
    return row


def edit_track(uow: UnitOfWork, key: str, document: Mapping[str, Any], *, by: str, now: datetime) -> TrackVersion:
    """A new draft version of a track (or the newest draft, changed in place; or nothing, if unchanged)."""
    if document.get("key", key) != key:
        problem = TrackProblem(
            key, None, None, "key", f"must be `{key}`, the track in the path (got {document['key']!r})"
        )
        raise TrackError([problem])
    track = _checked(uow, {**document, "key": key})
    newest = repository.latest(uow.session, key, for_update=True)
    if newest is None:
        raise TrackNotFound(f"no nurture track `{key}`")
    if newest.document == track:
        return newest
    if newest.status == "draft":
        newest.document, newest.created_by, newest.created_at = track, by, now
        newest.status_by, newest.status_at = by, now
        uow.commit()
        return newest
    row = _version(track, newest.version + 1, by=by, now=now)
    repository.save(uow.session, row)
    _commit_new(uow, f"track `{key}` v{row.version} was just made by another request: read it and try again")
    return row


def activate(uow: UnitOfWork, key: str, version: int | None, *, by: str, now: datetime) -> TrackVersion:
    """Make a version (default: the newest; a retired one rolls back) the active one; the one before is retired."""
    row = _find(uow, key, version)
    for other in repository.in_status(uow.session, key, ("active", "paused")):
        if other.version != row.version:
            _set_status(other, "retired", by=by, now=now)
    if row.status != "active":
        _set_status(row, "active", by=by, now=now)
    uow.commit()
    return row


def pause(uow: UnitOfWork, key: str, *, by: str, now: datetime) -> TrackVersion:
    """Stop a track taking new leads; its active version becomes paused."""
    return _move(uow, key, "active", "paused", by=by, now=now)


def resume(uow: UnitOfWork, key: str, *, by: str, now: datetime) -> TrackVersion:
    """Let a paused track take leads again."""
    return _move(uow, key, "paused", "active", by=by, now=now)


def put_settings(uow: UnitOfWork, document: Mapping[str, Any], *, by: str, now: datetime) -> SettingsVersion:
    """A new version of the nurture settings, if every live track still compiles with it (or none if unchanged)."""
    compiled = compile_settings(document)
    normal = NurtureSettings.model_validate(document).model_dump(mode="json")
    current = repository.current_settings_row(uow.session)
    if current is not None and current.document == normal:
        return current
    problems = []
    for live in repository.active_versions(uow.session) + _paused(uow):
        try:
            compile_track(live.document, compiled, version=live.version)
        except TrackError as error:
            problems.extend(error.problems)
    if problems:
        raise TrackError(problems)
    row = SettingsVersion(
        version=(current.version + 1) if current else 1, document=normal, created_by=by, created_at=now
    )
    repository.save(uow.session, row)
    _commit_new(uow, f"settings v{row.version} were just saved by another request: read them and try again")
    return row


def _commit_new(uow: UnitOfWork, conflict: str) -> None:
    """Commit a new version; another request that made the same version first is a conflict, not a failure."""
    try:
        uow.commit()
    except IntegrityError:
        # Two requests both saw no such version and both inserted it: the database let one win.
        uow.rollback()
        raise TrackConflict(conflict) from None


def _paused(uow: UnitOfWork) -> list[TrackVersion]:
    return [row for row in repository.latest_versions(uow.session) if row.status == "paused"]


def _checked(uow: UnitOfWork, document: Mapping[str, Any]) -> dict[str, Any]:
    """The document validated against the settings in force, in its normal JSON form (defaults filled in)."""
    compile_track(document, repository.settings(uow.session))
    return parse_track(document).model_dump(mode="json")


def _version(track: dict[str, Any], version: int, *, by: str, now: datetime) -> TrackVersion:
    return TrackVersion(
        key=track["key"],
        version=version,
        status="draft",
        document=track,
        created_by=by,
        created_at=now,
        status_by=by,
        status_at=now,
    )


def _find(uow: UnitOfWork, key: str, version: int | None) -> TrackVersion:
    row = (
        repository.latest(uow.session, key, for_update=True)
        if version is None
        else repository.track_version(uow.session, key, version)
    )
    if row is None:
        raise TrackNotFound(f"no nurture track `{key}`" + (f" v{version}" if version is not None else ""))
    return row


def _move(uow: UnitOfWork, key: str, source: str, target: str, *, by: str, now: datetime) -> TrackVersion:
    rows = repository.in_status(uow.session, key, (source,))
    if not rows:
        if not repository.versions(uow.session, key):
            raise TrackNotFound(f"no nurture track `{key}`")
        raise TrackConflict(f"track `{key}` has no {source} version to make {target}")
    row = rows[-1]
    _set_status(row, target, by=by, now=now)
    uow.commit()
    return row


def _set_status(row: TrackVersion, status: str, *, by: str, now: datetime) -> None:
    row.status, row.status_by, row.status_at = status, by, now
