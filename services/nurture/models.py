"""Every table of nurture, for Alembic (database.migrate names this module): import each table module here."""

from __future__ import annotations

from services.nurture.base import Base
from services.nurture.tracks.models import SettingsVersion, TrackVersion

__all__ = ["Base", "SettingsVersion", "TrackVersion"]
