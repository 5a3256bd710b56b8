"""The SLA clock on a rep's business calendar: when the warning falls, when the deadline does, time to accept.

An SLA of N business hours runs only while the assigned rep's calendar is open: nights, weekends and holidays
stop it, and a daylight-saving change moves it with the wall clock (09:00 stays 09:00). A handoff assigned while
the calendar is closed starts its clock at the next opening.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from calendars import Calendar, add_business_time, business_time_between, next_open

SlaState = Literal["on_track", "warning", "breached"]


class SlaError(ValueError):
    """An SLA that cannot be computed; the message names the field and the reason."""


@dataclass(frozen=True)
class SlaClock:
    """One assignment's SLA: when it was assigned, when the clock starts, warns and is due (UTC)."""

    assigned_at: datetime
    starts_at: datetime
    warn_at: datetime
    due_at: datetime

    def state(self, now: datetime) -> SlaState:
        """On track before the warning, warning until the deadline, breached from the deadline on."""
        if now >= self.due_at:
            return "breached"
        return "warning" if now >= self.warn_at else "on_track"


def sla_deadline(assigned_at: datetime, business_hours: float, calendar: Calendar) -> datetime:
    """The instant `business_hours` of the calendar's working time have passed since the assignment."""
    return add_business_time(calendar, assigned_at, _hours(business_hours, "business_hours"))


def sla_warning(assigned_at: datetime, business_hours: float, calendar: Calendar, warn_share: float) -> datetime:
    """The instant `warn_share` of the SLA's business time has passed since the assignment."""
    if not 0 < warn_share < 1:
        raise SlaError(f"warn_share: must be between 0 and 1, both excluded (got {warn_share})")
    return add_business_time(calendar, assigned_at, _hours(business_hours, "business_hours") * warn_share)


def sla_clock(assigned_at: datetime, business_hours: float, calendar: Calendar, warn_share: float) -> SlaClock:
    """The whole clock of an assignment: start, warning and deadline on the rep's calendar."""
    return SlaClock(
        assigned_at=assigned_at,
        starts_at=next_open(calendar, assigned_at),
        warn_at=sla_warning(assigned_at, business_hours, calendar, warn_share),
        due_at=sla_deadline(assigned_at, business_hours, calendar),
    )


def time_to_accept(assigned_at: datetime, answered_at: datetime, calendar: Calendar) -> timedelta:
    """The calendar's working time between the assignment and the rep's answer."""
    if answered_at < assigned_at:
        raise SlaError(f"answered_at: {answered_at.isoformat()} is before assigned_at {assigned_at.isoformat()}")
    return business_time_between(calendar, assigned_at, answered_at)


def _hours(value: float, field: str) -> timedelta:
    if not (math.isfinite(value) and value > 0):
        raise SlaError(f"{field}: must be a number of hours > 0 (got {value})")
    return timedelta(hours=value)
