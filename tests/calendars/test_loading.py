"""Calendars from YAML: the example loads, the schema is the model's, and bad calendars name the field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from calendars import CalendarError, load_calendars
from calendars.config import schema_text
from tests.calendars.builders import EXAMPLE, LUNCH_BREAK, REPO, WEEKDAYS, calendar

SCHEMA_FILE = REPO / "contracts" / "calendar.schema.json"


def test_the_example_file_has_a_paris_a_new_york_and_a_sydney_team():
    calendars = load_calendars(EXAMPLE)
    assert {name: cal.zone.key for name, cal in calendars.items()} == {
        "paris_sales": "Europe/Paris",
        "new_york_sales": "America/New_York",
        "sydney_sales": "Australia/Sydney",
    }


def test_the_committed_schema_is_the_one_generated_from_the_model():
    """Regenerate with: .venv/bin/python -m calendars > contracts/calendar.schema.json"""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()


def test_the_example_file_is_valid_against_the_committed_schema():
    document = _as_json(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate({"calendars": {"x": {"time_zone": "UTC", "working_hours": {"monday": ["9-12"]}}}}, schema)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"working_hours": {"monday": ["09:00-12:00", "13:00-12:00"]}},
            "calendar team: working_hours.monday[1]: end 12:00 must be after start 13:00",
        ),
        (
            {"working_hours": {"tuesday": ["09:00-12:00", "11:00-14:00"]}},
            "calendar team: working_hours.tuesday[1]: 11:00-14:00 overlaps 09:00-12:00 ([0])",
        ),
        (
            {"working_hours": {"friday": ["13:00-17:00", "09:00-13:30"]}},
            "calendar team: working_hours.friday[0]: 13:00-17:00 overlaps 09:00-13:30 ([1])",
        ),
        (
            {"working_hours": {"monday": ["9-12"]}},
            "calendar team: working_hours.monday[0]: '9-12' is not a range HH:MM-HH:MM",
        ),
        (
            {"working_hours": {key: [] for key in ("monday", "tuesday")}},
            "calendar team: working_hours: no working time on any weekday",
        ),
        ({"working_hours": {}}, "calendar team: working_hours: no working time on any weekday"),
        ({"time_zone": "Europe/Pariss"}, "calendar team: time_zone: unknown IANA time zone 'Europe/Pariss'"),
        ({"time_zone": "../etc/passwd"}, "calendar team: time_zone: unknown IANA time zone '../etc/passwd'"),
        ({"holidays": {"country": "XX"}}, "calendar team: holidays.country: unknown country 'XX'"),
        (
            {"holidays": {"country": "FR", "subdivision": "ZZ"}},
            "calendar team: holidays.subdivision: 'ZZ' is not a subdivision of FR",
        ),
        ({"holidays": {"subdivision": "NY"}}, "calendar team: holidays.subdivision: 'NY' given without"),
        (
            {"working_hours": {"wednesdy": LUNCH_BREAK}},
            "calendar team: working_hours.wednesdy: Extra inputs are not permitted",
        ),
        ({"date_overrides": {"2026-12-24": []}}, "calendar team: date_overrides.2026-12-24: no ranges"),
        (
            {"date_overrides": {"2026-12-24": ["09:00-12:00"]}, "holidays": {"extra_dates": ["2026-12-24"]}},
            "calendar team: date_overrides.2026-12-24: also in holidays.extra_dates",
        ),
        (
            {"date_overrides": {"2026-12-24": ["14:00-12:00"]}},
            "calendar team: date_overrides.2026-12-24[0]: end 12:00 must be after start 14:00",
        ),
    ],
)
def test_a_calendar_that_cannot_work_is_refused_naming_the_field(fields: dict[str, Any], message: str):
    spec: dict[str, Any] = {
        "time_zone": "Europe/Paris",
        "working_hours": dict.fromkeys(WEEKDAYS, LUNCH_BREAK),
        **fields,
    }
    with pytest.raises(CalendarError) as refused:
        calendar(spec.pop("time_zone"), hours=spec.pop("working_hours"), **spec)
    assert str(refused.value).startswith(message)


def test_a_missing_time_zone_and_a_file_that_is_not_yaml_are_named(tmp_path: Path):
    missing = tmp_path / "missing.yaml"
    missing.write_text("calendars:\n  team:\n    working_hours: {monday: ['09:00-17:00']}\n", encoding="utf-8")
    with pytest.raises(CalendarError, match=r"^calendar team: time_zone: Field required"):
        load_calendars(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("calendars: [\n", encoding="utf-8")
    with pytest.raises(CalendarError, match="not valid YAML"):
        load_calendars(broken)


def test_a_range_may_end_at_midnight_and_touch_the_next():
    cal = calendar(hours={"saturday": ["20:00-24:00"], "sunday": ["00:00-02:00"]}, holidays={})
    assert cal.week_open_time.total_seconds() == 6 * 3600


def _as_json(value: Any) -> Any:
    """YAML's dates as the strings a JSON document would carry."""
    if isinstance(value, dict):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value.isoformat() if isinstance(value, date) else value
