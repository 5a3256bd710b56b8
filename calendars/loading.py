"""Build calendars from their YAML form, refusing what cannot work with the calendar and the field named."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml
from pydantic import ValidationError

from calendars.config import TIME_RANGE_PATTERN, CalendarsDocument, CalendarSpec
from calendars.model import Calendar, CalendarError, Range

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(TIME_RANGE_PATTERN)
_Fail = Callable[[str, str], CalendarError]


def load_calendars(path: Path) -> dict[str, Calendar]:
    """Read a calendars YAML file (see config/calendars.example.yaml) and build every calendar in it."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CalendarError(f"{path}: not valid YAML ({exc})") from None
    return calendars_from_document(document)


def calendars_from_document(document: Any) -> dict[str, Calendar]:
    """Validate a parsed calendars document and build its calendars; errors name the calendar and the field."""
    try:
        parsed = CalendarsDocument.model_validate(document)
    except ValidationError as exc:
        raise CalendarError("; ".join(_describe(error["loc"], error["msg"]) for error in exc.errors())) from None
    return {name: build_calendar(name, spec) for name, spec in parsed.calendars.items()}


def build_calendar(name: str, spec: CalendarSpec) -> Calendar:
    """One calendar from its validated spec: time zone, ranges and holidays checked."""

    def fail(field: str, reason: str) -> CalendarError:
        return CalendarError(f"calendar {name}: {field}: {reason}")

    try:
        zone = ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail("time_zone", f"unknown IANA time zone {spec.time_zone!r}") from None
    weekly = tuple(_ranges(fail, f"working_hours.{day}", getattr(spec.working_hours, day)) for day in WEEKDAYS)
    if not any(weekly):
        raise fail("working_hours", "no working time on any weekday (a calendar must open at least once a week)")
    overrides: dict[date, tuple[Range, ...]] = {}
    for day, texts in spec.date_overrides.items():
        field = f"date_overrides.{day.isoformat()}"
        if not texts:
            raise fail(field, "no ranges (a closed date belongs in holidays.extra_dates)")
        if day in spec.holidays.extra_dates:
            raise fail(field, "also in holidays.extra_dates (closed or open: choose one)")
        overrides[day] = _ranges(fail, field, texts)
    return Calendar(
        name=name,
        zone=zone,
        weekly=weekly,
        public_holidays=_public_holidays(fail, spec),
        closed_dates=frozenset(spec.holidays.extra_dates),
        date_overrides=overrides,
    )


def _public_holidays(fail: _Fail, spec: CalendarSpec) -> holidays.HolidayBase | None:
    country, subdivision = spec.holidays.country, spec.holidays.subdivision
    if country is None:
        if subdivision is not None:
            raise fail("holidays.subdivision", f"{subdivision!r} given without holidays.country")
        return None
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise fail("holidays.country", f"unknown country {country!r} (an ISO 3166-1 alpha-2 code, e.g. FR, US, AU)")
    if subdivision is not None and subdivision not in supported[country]:
        known = ", ".join(supported[country]) or "none"
        raise fail("holidays.subdivision", f"{subdivision!r} is not a subdivision of {country} (known: {known})")
    return holidays.country_holidays(country, subdiv=subdivision)


def _ranges(fail: _Fail, field: str, texts: list[str]) -> tuple[Range, ...]:
    ranges: list[tuple[Range, int]] = []
    for index, text in enumerate(texts):
        if not _RANGE.match(text):
            raise fail(f"{field}[{index}]", f"{text!r} is not a range HH:MM-HH:MM")
        start_text, end_text = text.split("-")
        start, end = _minutes(start_text), _minutes(end_text)
        if end <= start:
            raise fail(f"{field}[{index}]", f"end {end_text} must be after start {start_text}")
        ranges.append(((start, end), index))
    ranges.sort()
    for (previous, previous_index), (current, index) in itertools.pairwise(ranges):
        if current[0] < previous[1]:
            raise fail(f"{field}[{index}]", f"{texts[index]} overlaps {texts[previous_index]} ([{previous_index}])")
    return tuple(value for value, _ in ranges)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _describe(loc: tuple[int | str, ...], message: str) -> str:
    if len(loc) >= 2 and loc[0] == "calendars":
        return f"calendar {loc[1]}: {_path(loc[2:]) or '(the calendar)'}: {message}"
    return f"{_path(loc) or '(the document)'}: {message}"


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
