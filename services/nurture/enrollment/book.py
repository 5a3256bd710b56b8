"""Where the running part finds tracks: the active versions, a given version, and the shared settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.nurture.tracks.compiled import CompiledSettings, CompiledTrack, compile_settings, compile_track
from services.nurture.tracks.models import SettingsVersion, TrackVersion


class TrackBook(Protocol):
    """The tracks as the running part reads them, inside the caller's transaction."""

    def active(self, session: Session) -> Sequence[CompiledTrack]:
        """The active version of each track."""
        ...

    def version(self, session: Session, key: str, version: int) -> CompiledTrack | None:
        """Version `version` of track `key` (an enrollment stays on the version it entered)."""
        ...

    def settings(self, session: Session) -> CompiledSettings:
        """Caps, quiet hours, calendars and the default time zone, shared by every track."""
        ...


class FixedTracks:
    """A book of tracks given once (tests and benchmarks): every track given is active."""

    def __init__(self, tracks: Sequence[CompiledTrack], settings: CompiledSettings) -> None:
        self._tracks = tuple(tracks)
        self._settings = settings

    def active(self, session: Session) -> Sequence[CompiledTrack]:
        """Every track given."""
        return self._tracks

    def version(self, session: Session, key: str, version: int) -> CompiledTrack | None:
        """The track given of that key and version."""
        return next((t for t in self._tracks if t.key == key and t.version == version), None)

    def settings(self, session: Session) -> CompiledSettings:
        """The settings given."""
        return self._settings


class StoredTracks:
    """The tracks and settings as stored by the tracks API; compiled versions are kept (a version never changes)."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, int, int], CompiledTrack] = {}
        self._settings: dict[int, CompiledSettings] = {}

    def active(self, session: Session) -> Sequence[CompiledTrack]:
        """The active version of each track (the newest, should two be marked active)."""
        query = select(TrackVersion.key, func.max(TrackVersion.version)).where(TrackVersion.status == "active")
        found = session.execute(query.group_by(TrackVersion.key).order_by(TrackVersion.key)).all()
        tracks = (self.version(session, key, version) for key, version in found)
        return [track for track in tracks if track is not None]

    def version(self, session: Session, key: str, version: int) -> CompiledTrack | None:
        """Version `version` of track `key`, compiled against the settings in force."""
        settings_version, settings = self._settings_in_force(session)
        cached = self._compiled.get((key, version, settings_version))
        if cached is not None:
            return cached
        row = session.get(TrackVersion, (key, version))
        if row is None:
            return None
        track = compile_track(row.document, settings, version=version)
        self._compiled[(key, version, settings_version)] = track
        return track

    def settings(self, session: Session) -> CompiledSettings:
        """The newest settings version, compiled; the defaults while none is stored."""
        return self._settings_in_force(session)[1]

    def _settings_in_force(self, session: Session) -> tuple[int, CompiledSettings]:
        newest = session.scalar(select(func.max(SettingsVersion.version)))
        number = int(newest or 0)
        if number not in self._settings:
            row = session.get(SettingsVersion, number) if number else None
            self._settings[number] = compile_settings(row.document if row else {})
        return number, self._settings[number]


class BatchBook:
    """A book read once per consumer batch: the active tracks, the settings and each version asked for are kept
    for the batch's transaction (the consumer never changes tracks, so they cannot change under it)."""

    def __init__(self, book: TrackBook) -> None:
        self._book = book
        self._active: Sequence[CompiledTrack] | None = None
        self._settings: CompiledSettings | None = None
        self._versions: dict[tuple[str, int], CompiledTrack | None] = {}

    def active(self, session: Session) -> Sequence[CompiledTrack]:
        """The active version of each track, read at the batch's first ask."""
        if self._active is None:
            self._active = self._book.active(session)
        return self._active

    def version(self, session: Session, key: str, version: int) -> CompiledTrack | None:
        """Version `version` of track `key`, read at the batch's first ask."""
        if (key, version) not in self._versions:
            self._versions[(key, version)] = self._book.version(session, key, version)
        return self._versions[(key, version)]

    def settings(self, session: Session) -> CompiledSettings:
        """The settings in force, read at the batch's first ask."""
        if self._settings is None:
            self._settings = self._book.settings(session)
        return self._settings
