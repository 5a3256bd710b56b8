"""The SLA clock on business calendars, against hand-computed cases: weekends, lunch, holidays, clock changes.

Paris calendar: 09:00-12:00 and 13:00-17:00, Monday to Friday, French public holidays. In 2026 the clocks go
forward in Paris on Sunday 29 March (CET UTC+1 -> CEST UTC+2) and back on Sunday 25 October; Easter Monday
is 6 April.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.handoff.sla.domain import SlaError, sla_clock, sla_deadline, sla_warning, time_to_accept
from tests.calendars.builders import calendar, example, utc

PARIS = calendar("Europe/Paris")


def test_a_friday_afternoon_assignment_is_due_on_monday_after_the_weekend():
    """Friday 9 January 16:30 CET (15:30Z), 8 business hours: Friday 16:30-17:00 is 0:30; Monday 12 January
    09:00-12:00 is 3:00 (3:30) and 13:00-17:00 is 4:00 (7:30); Tuesday 09:00 + 0:30 = 09:30 CET = 08:30Z.
    The warning at half, 4:00: 0:30 + 3:00 by Monday noon, then 13:00 + 0:30 = 13:30 CET = 12:30Z."""
    clock = sla_clock(utc("2026-01-09 15:30"), 8, PARIS, warn_share=0.5)
    assert clock.due_at == utc("2026-01-13 08:30")
    assert clock.warn_at == utc("2026-01-12 12:30")
    assert clock.starts_at == utc("2026-01-09 15:30")


def test_the_clock_follows_the_wall_clock_across_the_spring_change():
    """Friday 27 March 15:00 CET (14:00Z), 4 business hours: Friday 15:00-17:00 is 2:00; Monday 30 March opens
    at 09:00 CEST = 07:00Z (UTC+2 since Sunday) and 2:00 later is 11:00 CEST = 09:00Z, not 10:00Z as a fixed
    UTC+1 would say. The warning at 3/4, 3:00: Monday 10:00 CEST = 08:00Z."""
    clock = sla_clock(utc("2026-03-27 14:00"), 4, PARIS, warn_share=0.75)
    assert clock.due_at == utc("2026-03-30 09:00")
    assert clock.warn_at == utc("2026-03-30 08:00")


def test_the_clock_follows_the_wall_clock_across_the_autumn_change():
    """Friday 23 October 16:00 CEST (14:00Z), 2 business hours: 1:00 on Friday; Monday 26 October 09:00 CET
    is 08:00Z, so the deadline is 10:00 CET = 09:00Z."""
    assert sla_deadline(utc("2026-10-23 14:00"), 2, PARIS) == utc("2026-10-26 09:00")


def test_an_assignment_on_saturday_starts_the_clock_on_monday_morning():
    """Saturday 10 January 11:00 CET: closed. The clock starts Monday 12 January 09:00 CET (08:00Z); 2 hours
    later is 11:00 CET = 10:00Z."""
    clock = sla_clock(utc("2026-01-10 10:00"), 2, PARIS, warn_share=0.5)
    assert clock.starts_at == utc("2026-01-12 08:00")
    assert clock.warn_at == utc("2026-01-12 09:00")
    assert clock.due_at == utc("2026-01-12 10:00")


def test_a_public_holiday_stops_the_clock():
    """Friday 3 April 16:00 CEST (14:00Z), 4 business hours: 1:00 on Friday; Easter Monday 6 April is closed;
    Tuesday 7 April 09:00 + 3:00 = 12:00 CEST = 10:00Z (the lunch break starts exactly then)."""
    assert sla_deadline(utc("2026-04-03 14:00"), 4, PARIS) == utc("2026-04-07 10:00")


def test_the_example_new_york_calendar_across_its_spring_change():
    """new_york_sales (08:30-17:30, Friday to 16:00). Friday 6 March 15:00 EST (20:00Z), 3 business hours:
    1:00 on Friday; clocks go forward on Sunday 8 March; Monday 9 March 08:30 EDT (12:30Z) + 2:00 = 10:30 EDT
    = 14:30Z."""
    assert sla_deadline(utc("2026-03-06 20:00"), 3, example("new_york_sales")) == utc("2026-03-09 14:30")


def test_time_to_accept_counts_business_hours_only():
    """Assigned Friday 27 March 16:00 CET (15:00Z), accepted Monday 30 March 09:30 CEST (07:30Z): 64:30 on the
    wall clock, 1:00 on Friday plus 0:30 on Monday in business time."""
    assert time_to_accept(utc("2026-03-27 15:00"), utc("2026-03-30 07:30"), PARIS) == timedelta(hours=1, minutes=30)
    with pytest.raises(SlaError, match=r"answered_at: .* is before assigned_at"):
        time_to_accept(utc("2026-03-30 07:30"), utc("2026-03-27 15:00"), PARIS)


def test_the_sla_state_moves_from_on_track_to_warning_to_breached():
    """Monday 12 January 09:00 CET (08:00Z), 4 business hours, warning at 3/4: 3:00 ends at the morning's close,
    12:00 CET = 11:00Z (the end of a range, not the next opening); the 4th hour is 13:00-14:00 CET, due 13:00Z."""
    clock = sla_clock(utc("2026-01-12 08:00"), 4, PARIS, warn_share=0.75)
    assert clock.warn_at == utc("2026-01-12 11:00")
    assert clock.due_at == utc("2026-01-12 13:00")
    assert clock.state(utc("2026-01-12 10:59")) == "on_track"
    assert clock.state(utc("2026-01-12 11:00")) == "warning"
    assert clock.state(utc("2026-01-12 12:59")) == "warning"
    assert clock.state(utc("2026-01-12 13:00")) == "breached"


@pytest.mark.parametrize(
    ("hours", "share", "field"),
    [
        (0, 0.5, "business_hours"),
        (-2, 0.5, "business_hours"),
        (float("nan"), 0.5, "business_hours"),
        (4, 0, "warn_share"),
        (4, 1, "warn_share"),
    ],
)
def test_a_bad_sla_names_the_field(hours, share, field):
    with pytest.raises(SlaError, match=f"^{field}: "):
        sla_warning(utc("2026-01-12 08:00"), hours, PARIS, share)
