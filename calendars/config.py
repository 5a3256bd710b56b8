"""The YAML form of business calendars: a pydantic model and its JSON Schema."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

TIME_RANGE_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
SCHEMA_ID = "contracts/calendar.schema.json"

# The pattern is checked by build_calendar, which names the field in its message; the schema carries it for editors.
TimeRange = Annotated[
    str,
    Field(
        description="A working range in local wall time, HH:MM-HH:MM (end 24:00 is midnight).",
        json_schema_extra={"pattern": TIME_RANGE_PATTERN},
    ),
]
Ranges = Annotated[list[TimeRange], Field(default_factory=list)]


class WorkingHours(BaseModel):
    """Working ranges per weekday, in local wall time; a day left out or empty is closed."""

    model_config = ConfigDict(extra="forbid")

    monday: Ranges
    tuesday: Ranges
    wednesday: Ranges
    thursday: Ranges
    friday: Ranges
    saturday: Ranges
    sunday: Ranges


class HolidaysSpec(BaseModel):
    """Closed dates: a country's public holidays and explicit dates."""

    model_config = ConfigDict(extra="forbid")

    country: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 code; its public holidays (the `holidays` package) are closed."
    )
    subdivision: str | None = Field(
        default=None, description="A subdivision of the country (state, region) whose own holidays apply too."
    )
    extra_dates: list[date] = Field(
        default_factory=list, description="Further closed dates: company days off, an offsite, a bridge day."
    )


class CalendarSpec(BaseModel):
    """One business calendar: where it runs, when it works, and when it does not."""

    model_config = ConfigDict(extra="forbid")

    time_zone: str = Field(description="IANA time zone, e.g. Europe/Paris; working hours are wall time there.")
    working_hours: WorkingHours
    holidays: HolidaysSpec = Field(default_factory=HolidaysSpec)
    date_overrides: dict[date, list[TimeRange]] = Field(
        default_factory=dict,
        description="Dates with their own working ranges, replacing the weekday's hours and any holiday: "
        "a working Saturday, a public holiday worked, a half day.",
    )


class CalendarsDocument(BaseModel):
    """A file of business calendars, by name."""

    model_config = ConfigDict(extra="forbid")

    calendars: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], CalendarSpec]


def calendar_json_schema() -> dict[str, Any]:
    """The JSON Schema of a calendars file, as committed in contracts/calendar.schema.json."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **CalendarsDocument.model_json_schema(),
    }


def schema_text() -> str:
    """The committed text of contracts/calendar.schema.json: sorted keys, two-space indent, final newline."""
    return json.dumps(calendar_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
