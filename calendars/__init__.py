"""Business calendars: working hours in a time zone, less holidays; business time added and measured on them.

Shared machinery below the services (handoff's SLA clocks, reps' hours, nurture's business days); pure.
"""

from calendars.business_time import (
    add_business_days,
    add_business_time,
    business_time_between,
    is_open,
    next_open,
)
from calendars.config import CalendarsDocument, CalendarSpec, calendar_json_schema
from calendars.loading import build_calendar, calendars_from_document, load_calendars
from calendars.model import Calendar, CalendarError, open_intervals

__all__ = [
    "Calendar",
    "CalendarError",
    "CalendarSpec",
    "CalendarsDocument",
    "add_business_days",
    "add_business_time",
    "build_calendar",
    "business_time_between",
    "calendar_json_schema",
    "calendars_from_document",
    "is_open",
    "load_calendars",
    "next_open",
    "open_intervals",
]
