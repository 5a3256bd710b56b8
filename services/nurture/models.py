"""Every table of nurture, for Alembic (database.migrate names this module): import each table module here."""

from __future__ import annotations

from services.nurture.base import Base
from services.nurture.contacts.models import NurtureContact
from services.nurture.enrollment.models import NurtureEnrollment, NurtureStepRun
from services.nurture.tracks.models import SettingsVersion, TrackVersion

__all__ = ["Base", "NurtureContact", "NurtureEnrollment", "NurtureStepRun", "SettingsVersion", "TrackVersion"]
