"""Due times of step waits, caps and quiet hours, against schedules computed by hand.

T0 is Monday 2 November 2026, 09:00 UTC: 10:00 in Paris (UTC+1 in winter), 04:00 in New York (UTC-5).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.nurture.tracks.compiled import StepWait
from services.nurture.tracks.timing import (
    FREQUENCY_CAP,
    QUIET_HOURS,
    action_slot,
    contact_zone,
    in_quiet_hours,
    step_due,
)
from tests.clock import T0
from tests.nurture.builders import settings

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
SETTINGS = settings()  # email: at most 2 in 7 days; quiet 20:00-08:00 local for email and sales tasks
CALENDAR = SETTINGS.calendars["paris"]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_an_empty_wait_is_due_at_once() -> None:
    assert step_due(StepWait(), T0, PARIS) == T0


def test_a_duration_is_real_time_even_across_a_clock_change() -> None:
    # Paris goes to summer time on Sunday 28 March 2027 at 02:00: one day later is 24 real hours later.
    start = utc(2027, 3, 27, 12)
    assert step_due(StepWait(duration=timedelta(days=1)), start, PARIS) == utc(2027, 3, 28, 12)


def test_business_days_skip_the_weekend_and_keep_the_wall_time() -> None:
    friday_5pm_paris = utc(2026, 11, 6, 16)
    # Monday 9 is business day 1, Tuesday 10 is business day 2: 17:00 Paris is 16:00 UTC.
    assert step_due(StepWait(business_days=2, calendar=CALENDAR), friday_5pm_paris, PARIS) == utc(2026, 11, 10, 16)


def test_business_days_skip_a_public_holiday() -> None:
    # Wednesday 11 November is Armistice Day in France: one business day after Tuesday is Thursday.
    tuesday = utc(2026, 11, 10, 9)
    assert step_due(StepWait(business_days=1, calendar=CALENDAR), tuesday, PARIS) == utc(2026, 11, 12, 9)


def test_business_days_then_a_time_of_day_in_the_contacts_zone() -> None:
    wait = StepWait(business_days=2, calendar=CALENDAR, at=time(10))
    friday_5pm_paris = utc(2026, 11, 6, 16)
    # Tuesday 17:00 Paris is past 10:00: the next 10:00 in New York is Wednesday 15:00 UTC.
    assert step_due(wait, friday_5pm_paris, NEW_YORK) == utc(2026, 11, 11, 15)


def test_a_time_of_day_later_today_is_today() -> None:
    assert step_due(StepWait(at=time(10)), T0, NEW_YORK) == utc(2026, 11, 2, 15)


def test_a_time_of_day_already_past_is_tomorrow() -> None:
    assert step_due(StepWait(at=time(9, 30)), T0, PARIS) == utc(2026, 11, 3, 8, 30)


def test_a_time_of_day_the_spring_change_skips_is_the_instant_the_clock_jumps() -> None:
    # 28 March 2027, Paris: 02:00 CET becomes 03:00 CEST, at 01:00 UTC; 02:30 does not exist that night.
    assert step_due(StepWait(at=time(2, 30)), utc(2027, 3, 28, 0), PARIS) == utc(2027, 3, 28, 1)


def test_an_ambiguous_time_of_day_in_autumn_is_its_first_occurrence() -> None:
    # 25 October 2026, Paris: 03:00 CEST becomes 02:00 CET; 02:30 first occurs at 00:30 UTC.
    assert step_due(StepWait(at=time(2, 30)), utc(2026, 10, 24, 23), PARIS) == utc(2026, 10, 25, 0, 30)


def test_a_time_of_day_holds_in_summer_and_in_winter() -> None:
    summer_due = step_due(StepWait(at=time(10)), utc(2026, 7, 1, 0), PARIS)
    winter_due = step_due(StepWait(at=time(10)), utc(2026, 12, 1, 0), PARIS)
    assert (summer_due, winter_due) == (utc(2026, 7, 1, 8), utc(2026, 12, 1, 9))


def test_an_action_within_the_caps_goes_out_when_asked() -> None:
    slot = action_slot("email", T0, [T0 - timedelta(days=3)], SETTINGS, PARIS)
    assert (slot.at, slot.deferred, slot.reasons) == (T0, False, ())


def test_an_action_over_the_cap_waits_until_the_oldest_send_leaves_the_window() -> None:
    slot = action_slot("email", T0, [T0 - timedelta(days=6), T0 - timedelta(days=1)], SETTINGS, PARIS)
    assert (slot.at, slot.reasons) == (T0 + timedelta(days=1), (FREQUENCY_CAP,))
    assert slot.details == ("at most 2 email in 7 days",)


def test_an_action_at_night_waits_for_the_morning_in_the_contacts_zone() -> None:
    monday_10pm_paris = utc(2026, 11, 2, 21)
    slot = action_slot("email", monday_10pm_paris, [], SETTINGS, PARIS)
    assert (slot.at, slot.reasons) == (utc(2026, 11, 3, 7), (QUIET_HOURS,))
    early = action_slot("email", utc(2026, 11, 3, 5), [], SETTINGS, PARIS)
    assert early.at == utc(2026, 11, 3, 7)


def test_a_cap_that_ends_at_night_defers_to_the_morning() -> None:
    sent = [utc(2026, 10, 26, 20), utc(2026, 10, 30, 10)]
    slot = action_slot("email", utc(2026, 11, 2, 12), sent, SETTINGS, PARIS)
    # The cap frees a place on Monday 20:00 UTC (21:00 Paris, quiet): Tuesday 08:00 Paris, 07:00 UTC.
    assert (slot.at, slot.reasons) == (utc(2026, 11, 3, 7), (FREQUENCY_CAP, QUIET_HOURS))


def test_channels_without_a_cap_or_quiet_hours_go_out_at_once() -> None:
    monday_10pm_paris = utc(2026, 11, 2, 21)
    slot = action_slot("ad_audience", monday_10pm_paris, [monday_10pm_paris] * 9, SETTINGS, PARIS)
    assert slot == action_slot("ad_audience", monday_10pm_paris, [], SETTINGS, PARIS)
    assert not slot.deferred


def test_five_overdue_emails_after_a_weekend_outage_do_not_burst() -> None:
    sent: list[datetime] = []
    for _ in range(5):  # as the scheduler fires each overdue step, with what it sent so far
        slot = action_slot("email", T0, sent, SETTINGS, PARIS)
        sent.append(slot.at)
    week = timedelta(days=7)
    assert sent == [T0, T0, T0 + week, T0 + week, T0 + 2 * week]


def test_an_unknown_contact_zone_falls_back_to_the_default() -> None:
    assert contact_zone("Atlantis/Capital", SETTINGS) == PARIS
    assert contact_zone(None, SETTINGS) == PARIS
    assert contact_zone("America/New_York", SETTINGS) == NEW_YORK


def test_naive_times_are_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        step_due(StepWait(), datetime(2026, 11, 2, 9), PARIS)


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC))


@given(at=instants, sent=st.lists(instants, max_size=6), zone=st.sampled_from([PARIS, NEW_YORK]))
def test_a_slot_is_never_earlier_never_at_night_and_never_over_the_cap(
    at: datetime, sent: list[datetime], zone: ZoneInfo
) -> None:
    earlier = [moment for moment in sent if moment <= at]
    slot = action_slot("email", at, earlier, SETTINGS, zone)

    assert slot.at >= at
    assert SETTINGS.quiet_hours is not None
    assert not in_quiet_hours(slot.at, SETTINGS.quiet_hours, zone)
    in_window = [moment for moment in earlier if slot.at - timedelta(days=7) < moment <= slot.at]
    assert len(in_window) < 2
    assert slot.deferred == (slot.at != at)
