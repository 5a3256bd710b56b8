"""Calendars and instants for the calendar tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from calendars import Calendar, calendars_from_document, load_calendars, open_intervals

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "calendars.example.yaml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
LUNCH_BREAK = ["09:00-12:00", "13:00-17:00"]


def example(name: str) -> Calendar:
    """A calendar of config/calendars.example.yaml."""
    return load_calendars(EXAMPLE)[name]


def calendar(
    time_zone: str = "Europe/Paris",
    *,
    hours: dict[str, list[str]] | None = None,
    holidays: dict[str, Any] | None = None,
    **fields: Any,
) -> Calendar:
    """A calendar named `team`: by default 09:00-12:00 and 13:00-17:00 on weekdays, French holidays, Paris."""
    spec = {
        "time_zone": time_zone,
        "working_hours": hours if hours is not None else dict.fromkeys(WEEKDAYS, LUNCH_BREAK),
        "holidays": holidays if holidays is not None else {"country": "FR"},
        **fields,
    }
    return calendars_from_document({"calendars": {"team": spec}})["team"]


def utc(text: str) -> datetime:
    """An instant written in UTC, e.g. "2026-01-09 15:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def reference_between(cal: Calendar, start: datetime, end: datetime) -> timedelta:
    """Working time from start to end, summed a local date at a time: no week skipping, for comparison."""
    total = timedelta(0)
    day: date = start.astimezone(cal.zone).date() - timedelta(days=1)
    while day <= end.astimezone(cal.zone).date() + timedelta(days=1):
        for a, b in open_intervals(cal, day):
            total += max(timedelta(0), min(b, end) - max(a, start))
        day += timedelta(days=1)
    return total
