"""Table of nurture tracks: one row per version of a track, with its document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.nurture.base import Base

TRACK_STATUSES = ("draft", "active", "paused", "retired")


class TrackVersion(Base):
    """A version of a track: its document, its status, who made it and when; enrollments name (key, version)."""

    __tablename__ = "nurture_track_version"
    __table_args__ = (Index("ix_nurture_track_version_status", "status", "key"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), comment="draft, active, paused or retired")
    document: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    status_by: Mapped[str] = mapped_column(String(200))
    status_at: Mapped[datetime]


class SettingsVersion(Base):
    """A version of the nurture settings (calendars, caps, quiet hours); the newest is in force."""

    __tablename__ = "nurture_settings_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
