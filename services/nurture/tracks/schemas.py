"""Request and response models of the nurture tracks API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.nurture.tracks.models import SettingsVersion, TrackVersion
from services.nurture.tracks.problems import TrackProblem

Status = Literal["draft", "active", "paused", "retired"]


class TrackIn(BaseModel):
    """A track document (the JSON form of one item of `tracks:` in config/nurture_tracks.example.yaml)."""

    document: dict[str, Any] = Field(description="The track; see contracts/nurture_track.schema.json ($defs).")


class SettingsIn(BaseModel):
    """The nurture settings: calendars, caps and quiet hours per contact across all tracks, default time zone."""

    document: dict[str, Any] = Field(description="The settings part of contracts/nurture_track.schema.json.")


class TrackVersionOut(BaseModel):
    """One version of a track: its status, who made it and changed it last, and its document."""

    key: str
    version: int
    status: Status
    name: str
    priority: int
    steps: int = Field(description="How many steps the track has.")
    created_by: str
    created_at: datetime
    status_by: str = Field(description="Who set the status last.")
    status_at: datetime
    document: dict[str, Any]

    @classmethod
    def of(cls, row: TrackVersion) -> TrackVersionOut:
        """The answer for a stored version."""
        return cls(
            key=row.key,
            version=row.version,
            status=row.status,
            name=row.document["name"],
            priority=row.document.get("priority", 0),
            steps=len(row.document["steps"]),
            created_by=row.created_by,
            created_at=row.created_at,
            status_by=row.status_by,
            status_at=row.status_at,
            document=row.document,
        )


class TrackSummary(BaseModel):
    """A track as listed: its newest version and the version leads enter now."""

    key: str
    name: str
    priority: int
    latest_version: int
    latest_status: Status
    active_version: int | None = Field(description="The version leads enter now; null while none is active.")
    steps: int


class TrackOut(BaseModel):
    """A track with every version, oldest first."""

    key: str
    versions: list[TrackVersionOut]


class ProblemItem(BaseModel):
    """One problem of a document: the track, the step (number from 1 and id), the field, and what is wrong."""

    field: str | None
    message: str
    track: str | None
    step: int | None
    step_id: str | None

    @classmethod
    def of(cls, problem: TrackProblem) -> ProblemItem:
        """The item for a problem."""
        return cls(**problem.as_dict())


class ValidationOut(BaseModel):
    """The verdict on a track document: valid, or every problem found."""

    valid: bool
    errors: list[ProblemItem]


class SettingsOut(BaseModel):
    """The nurture settings in force (version 0: nothing saved yet, the defaults)."""

    version: int
    created_by: str | None
    created_at: datetime | None
    document: dict[str, Any]

    @classmethod
    def of(cls, row: SettingsVersion | None) -> SettingsOut:
        """The answer for the stored settings, or the defaults."""
        if row is None:
            return cls(version=0, created_by=None, created_at=None, document={})
        return cls(version=row.version, created_by=row.created_by, created_at=row.created_at, document=row.document)
