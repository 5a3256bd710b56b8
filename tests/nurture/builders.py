"""Track documents and settings for nurture tests, as plain dicts a test changes one field of."""

from __future__ import annotations

from typing import Any

from services.nurture.tracks.compiled import CompiledSettings, CompiledTrack, compile_settings, compile_track

PARIS_OFFICE = {
    "time_zone": "Europe/Paris",
    "working_hours": {day: ["09:00-18:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    "holidays": {"country": "FR"},
}


def settings_doc(**changes: Any) -> dict[str, Any]:
    """Settings with one calendar (Paris office, French holidays), an email cap and quiet hours."""
    doc: dict[str, Any] = {
        "default_time_zone": "Europe/Paris",
        "calendars": {"paris": PARIS_OFFICE},
        "caps": [{"channel": "email", "max_actions": 2, "window_days": 7}],
        "quiet_hours": {"start": "20:00", "end": "08:00"},
    }
    doc.update(changes)
    return doc


def track_doc(key: str = "awareness", **changes: Any) -> dict[str, Any]:
    """A three-step track for raw leads: welcome at once, a guide 2 business days
    later at 10:00 (engaged within 5 days: a case study, else an ad audience)."""
    doc: dict[str, Any] = {
        "key": key,
        "name": key.title(),
        "priority": 10,
        "entry": {"stages": ["raw"]},
        "steps": [
            {"id": "welcome", "action": {"channel": "email", "content_id": "welcome-email"}},
            {
                "id": "guide",
                "wait": {"business_days": 2, "calendar": "paris", "at": "10:00"},
                "action": {"channel": "email", "content_id": "buyers-guide"},
                "branch": {"within_days": 5, "otherwise": "reminder"},
            },
            {
                "id": "case-study",
                "wait": {"duration": "P3D"},
                "action": {"channel": "email", "content_id": "case"},
                "next": "end",
            },
            {"id": "reminder", "wait": {"duration": "PT0S"}, "action": {"channel": "ad_audience", "content_id": "ads"}},
        ],
        "reentry": {"allowed": True, "cooldown_days": 30},
    }
    doc.update(changes)
    return doc


def settings(**changes: Any) -> CompiledSettings:
    """Compiled settings_doc."""
    return compile_settings(settings_doc(**changes))


def track(key: str = "awareness", *, version: int = 1, **changes: Any) -> CompiledTrack:
    """Compiled track_doc against the default settings."""
    return compile_track(track_doc(key, **changes), settings(), version=version)
