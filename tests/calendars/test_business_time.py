"""Business time against hand-computed cases: lunch breaks, weekends, holidays and daylight-saving changes.

Dates are in 2026: the clocks change in Paris on Sundays 29 March and 25 October, in New York on Sundays
8 March and 1 November. 14 July 2026 is a Tuesday.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from calendars import (
    CalendarError,
    add_business_days,
    add_business_time,
    business_time_between,
    is_open,
    next_open,
    open_intervals,
)
from tests.calendars.builders import WEEKDAYS, calendar, example, reference_between, utc

HOUR = timedelta(hours=1)


def test_friday_afternoon_plus_four_hours_ends_monday_after_lunch():
    """Friday 9 January 2026 16:30 Paris (CET, UTC+1) is 15:30Z.

    Friday 16:30-17:00 gives 0:30 (3:30 left); the weekend is closed; Monday 12 January 09:00-12:00 gives 3:00
    (0:30 left); lunch 12:00-13:00 is closed; 13:00 + 0:30 = Monday 13:30 CET = 12:30Z.
    """
    assert add_business_time(calendar(), utc("2026-01-09 15:30"), 4 * HOUR) == utc("2026-01-12 12:30")


def test_adding_exactly_what_is_left_of_a_range_ends_at_its_close():
    """Friday 16:30 CET + 0:30 is Friday 17:00 CET (16:00Z), not Monday's opening."""
    assert add_business_time(calendar(), utc("2026-01-09 15:30"), timedelta(minutes=30)) == utc("2026-01-09 16:00")


def test_span_across_the_spring_change_in_paris_counts_wall_hours():
    """Friday 27 March 16:00 CET (15:00Z) + 2h: Friday 16:00-17:00 gives 1h; Monday 30 March opens at 09:00
    CEST (07:00Z, UTC+2 since Sunday) and 1h later is 10:00 CEST = 08:00Z."""
    cal = calendar()
    assert add_business_time(cal, utc("2026-03-27 15:00"), 2 * HOUR) == utc("2026-03-30 08:00")
    assert business_time_between(cal, utc("2026-03-27 15:00"), utc("2026-03-30 08:00")) == 2 * HOUR
    assert business_time_between(cal, utc("2026-03-27 16:00"), utc("2026-03-30 07:00")) == timedelta(0)


def test_span_across_the_autumn_change_in_paris_counts_wall_hours():
    """Friday 23 October 16:00 CEST (14:00Z) + 2h: 1h on Friday; Monday 26 October 09:00 CET is 08:00Z,
    so the second hour ends at 10:00 CET = 09:00Z."""
    cal = calendar()
    assert add_business_time(cal, utc("2026-10-23 14:00"), 2 * HOUR) == utc("2026-10-26 09:00")
    assert next_open(cal, utc("2026-10-23 15:00")) == utc("2026-10-26 08:00")


def test_a_night_range_lasts_one_real_hour_in_spring_and_three_in_autumn():
    """A Sunday range 01:00-03:00 Paris: on 29 March 02:00 CET jumps to 03:00 CEST, so 01:00 CET (00:00Z) to
    03:00 CEST (01:00Z) is 1h; on 25 October 03:00 CEST falls back to 02:00 CET, so 01:00 CEST (23:00Z on the
    24th) to 03:00 CET (02:00Z) is 3h."""
    cal = calendar(hours={"monday": ["09:00-17:00"], "sunday": ["01:00-03:00"]}, holidays={})
    assert open_intervals(cal, datetime(2026, 3, 29).date()) == ((utc("2026-03-29 00:00"), utc("2026-03-29 01:00")),)
    assert open_intervals(cal, datetime(2026, 10, 25).date()) == ((utc("2026-10-24 23:00"), utc("2026-10-25 02:00")),)
    assert business_time_between(cal, utc("2026-03-28 12:00"), utc("2026-03-30 00:00")) == HOUR
    assert business_time_between(cal, utc("2026-10-24 12:00"), utc("2026-10-26 00:00")) == 3 * HOUR
    # 2h30 after 01:00 CEST is 01:30Z, the second time the clock reads 02:30 (CET): still open.
    assert add_business_time(cal, utc("2026-10-24 12:00"), timedelta(minutes=150)) == utc("2026-10-25 01:30")
    assert is_open(cal, utc("2026-10-25 01:59"))
    assert not is_open(cal, utc("2026-10-25 02:00"))


def test_a_boundary_in_the_skipped_hour_is_the_instant_the_clock_jumps():
    """On 29 March 02:30 Paris never happens: a range 02:30-04:00 opens at the jump, 03:00 CEST = 01:00Z, and
    closes at 04:00 CEST = 02:00Z; a range 02:10-02:50 has no instant at all."""
    cal = calendar(hours={"sunday": ["02:10-02:50", "02:55-04:00"]}, holidays={})
    assert open_intervals(cal, datetime(2026, 3, 29).date()) == ((utc("2026-03-29 01:00"), utc("2026-03-29 02:00")),)
    assert next_open(cal, utc("2026-03-28 12:00")) == utc("2026-03-29 01:00")
    # On an ordinary Sunday both ranges exist: 40 + 65 minutes.
    assert business_time_between(cal, utc("2026-03-21 12:00"), utc("2026-03-23 00:00")) == timedelta(minutes=105)


def test_span_across_the_spring_and_autumn_changes_in_new_york():
    """09:00-17:00 New York. Friday 6 March 16:00 EST (21:00Z) + 3h: 1h on Friday, then Monday 9 March opens
    at 09:00 EDT (13:00Z) and 2h later is 11:00 EDT = 15:00Z. Friday 30 October 16:00 EDT (20:00Z) + 3h: Monday
    2 November opens at 09:00 EST (14:00Z), so 11:00 EST = 16:00Z."""
    cal = calendar("America/New_York", hours={key: ["09:00-17:00"] for key in WEEKDAYS}, holidays={"country": "US"})
    assert add_business_time(cal, utc("2026-03-06 21:00"), 3 * HOUR) == utc("2026-03-09 15:00")
    assert add_business_time(cal, utc("2026-10-30 20:00"), 3 * HOUR) == utc("2026-11-02 16:00")


def test_a_public_holiday_is_skipped():
    """Monday 13 July 16:00 CEST (14:00Z) + 3h: 1h on Monday, Tuesday 14 July (Fête nationale) closed,
    Wednesday 15 July 09:00 + 2h = 11:00 CEST = 09:00Z."""
    assert add_business_time(calendar(), utc("2026-07-13 14:00"), 3 * HOUR) == utc("2026-07-15 09:00")


def test_christmas_is_skipped():
    """Thursday 24 December 16:00 CET (15:00Z) + 2h: 1h on Thursday; Friday 25 December closed; weekend;
    Monday 28 December 09:00 + 1h = 10:00 CET = 09:00Z."""
    assert add_business_time(calendar(), utc("2026-12-24 15:00"), 2 * HOUR) == utc("2026-12-28 09:00")


def test_business_time_between_over_a_weekend_and_a_holiday():
    """Friday 10 July 15:00 CEST to Wednesday 15 July 10:00 CEST: Friday 15:00-17:00 (2h), Monday (3h + 4h),
    Tuesday 14 July closed, Wednesday 09:00-10:00 (1h): 10h. Backwards, -10h."""
    cal = calendar()
    assert business_time_between(cal, utc("2026-07-10 13:00"), utc("2026-07-15 08:00")) == 10 * HOUR
    assert business_time_between(cal, utc("2026-07-15 08:00"), utc("2026-07-10 13:00")) == -10 * HOUR


def test_next_opening_from_lunch_friday_evening_and_a_holiday():
    """Monday 12 January 12:20 CET -> 13:00 CET (12:00Z); Friday 9 January 18:00 CET -> Monday 12 January
    09:00 CET (08:00Z); Tuesday 14 July 10:00 CEST -> Wednesday 15 July 09:00 CEST (07:00Z)."""
    cal = calendar()
    assert next_open(cal, utc("2026-01-12 11:20")) == utc("2026-01-12 12:00")
    assert next_open(cal, utc("2026-01-09 17:00")) == utc("2026-01-12 08:00")
    assert next_open(cal, utc("2026-07-14 08:00")) == utc("2026-07-15 07:00")
    assert next_open(cal, utc("2026-01-12 10:15")) == utc("2026-01-12 10:15")


def test_ranges_are_open_at_their_start_and_closed_at_their_end():
    cal = calendar()
    assert is_open(cal, utc("2026-01-12 08:00"))  # 09:00 CET
    assert is_open(cal, utc("2026-01-12 10:59:59"))
    assert not is_open(cal, utc("2026-01-12 11:00"))  # 12:00 CET
    assert not is_open(cal, utc("2026-01-10 10:00"))  # Saturday


def test_a_subdivision_adds_its_own_holidays():
    """Good Friday (3 April 2026) is a holiday in Alsace-Moselle (FR subdivision 57), not in the rest of France."""
    friday_morning = utc("2026-04-03 08:00")
    assert is_open(calendar(), friday_morning)
    assert not is_open(calendar(holidays={"country": "FR", "subdivision": "57"}), friday_morning)


def test_extra_dates_close_and_overrides_open_or_shorten():
    """The Paris example: Friday 15 May closed, Whit Monday 25 May worked, 24 December mornings only."""
    cal = example("paris_sales")
    assert not is_open(cal, utc("2026-05-15 08:00"))
    assert is_open(cal, utc("2026-05-25 08:00"))
    assert not is_open(calendar(), utc("2026-05-25 08:00"))  # without the override, Whit Monday is a holiday
    assert is_open(cal, utc("2026-12-24 10:00"))  # 11:00 CET
    assert not is_open(cal, utc("2026-12-24 13:00"))  # 14:00 CET


def test_add_business_days_keeps_the_wall_time_and_skips_closed_dates():
    """Friday 10 July 10:00 CEST (08:00Z): +1 is Monday 13 July, +2 is Wednesday 15 July (14 July closed).
    Saturday + 1 is Monday. Friday 27 March 10:00 CET (09:00Z) + 1 is Monday 30 March 10:00 CEST (08:00Z)."""
    cal = calendar()
    assert add_business_days(cal, utc("2026-07-10 08:00"), 1) == utc("2026-07-13 08:00")
    assert add_business_days(cal, utc("2026-07-10 08:00"), 2) == utc("2026-07-15 08:00")
    assert add_business_days(cal, utc("2026-07-11 08:00"), 1) == utc("2026-07-13 08:00")
    assert add_business_days(cal, utc("2026-03-27 09:00"), 1) == utc("2026-03-30 08:00")
    assert add_business_days(cal, utc("2026-03-27 09:00"), 0) == utc("2026-03-27 09:00")


def test_many_business_days_match_a_count_date_by_date():
    """250 business days from 1 January 2026, counted by the week-skipping walk and one date at a time."""
    cal = calendar()
    start = utc("2026-01-01 10:00")
    result = add_business_days(cal, start, 250)
    day, counted = start.date(), 0
    while counted < 250:
        day += timedelta(days=1)
        counted += 1 if open_intervals(cal, day) else 0
    assert result.astimezone(cal.zone).date() == day
    assert result.astimezone(cal.zone).hour == 11  # 10:00Z is 11:00 CET in January, and it stays 11:00 local


def test_two_thousand_business_hours_skip_weeks_and_match_a_date_by_date_sum():
    cal = example("paris_sales")
    start = utc("2026-02-03 14:17")
    result = add_business_time(cal, start, 2000 * HOUR)
    assert business_time_between(cal, start, result) == 2000 * HOUR
    assert reference_between(cal, start, result) == 2000 * HOUR
    assert result.year == 2027  # 2,000 h at 35 h a week is about 57 weeks, holidays and bridges included


def test_zero_is_the_start_even_when_closed():
    saturday = utc("2026-01-10 10:00")
    assert add_business_time(calendar(), saturday, timedelta(0)) == saturday


def test_naive_instants_and_negative_amounts_are_refused():
    cal = calendar()
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        add_business_time(cal, datetime(2026, 1, 9, 16, 30), HOUR)
    with pytest.raises(ValueError, match="duration must be >= 0"):
        add_business_time(cal, utc("2026-01-09 15:30"), -HOUR)
    with pytest.raises(ValueError, match="days must be >= 0"):
        add_business_days(cal, utc("2026-01-09 15:30"), -1)


def test_a_calendar_whose_only_working_day_is_always_closed_says_so():
    cal = calendar(hours={"monday": ["09:00-10:00"]}, holidays={"extra_dates": []})
    # Its only working weekday, Monday, closed by extra dates for twelve years: nothing opens for a decade.
    mondays = [datetime(2026, 1, 5).date() + timedelta(weeks=week) for week in range(12 * 53)]
    closed = calendar(hours={"monday": ["09:00-10:00"]}, holidays={"extra_dates": mondays})
    assert next_open(cal, utc("2026-01-01 00:00")) == utc("2026-01-05 08:00")
    with pytest.raises(CalendarError, match="calendar team: no working time in the 3660 days"):
        next_open(closed, utc("2026-01-01 00:00"))
    with pytest.raises(CalendarError, match="no working time"):
        add_business_time(closed, utc("2026-01-01 00:00"), HOUR)


def test_easter_and_the_southern_autumn_change_in_sydney():
    """The Sydney example (08:30-12:30, 13:30-17:00). Thursday 2 April 16:00 AEDT (UTC+11) is 05:00Z; + 2h: 1h
    on Thursday; Good Friday 3 April closed; clocks go back on Sunday 5 April (AEDT to AEST, UTC+10); Easter
    Monday 6 April closed (NSW); Tuesday 7 April opens 08:30 AEST = 22:30Z on the 6th, and 1h later is 23:30Z."""
    cal = example("sydney_sales")
    assert add_business_time(cal, utc("2026-04-02 05:00"), 2 * HOUR) == utc("2026-04-06 23:30")
