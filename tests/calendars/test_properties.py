"""Properties of business time (hypothesis), on the Paris example and on a calendar that works the DST nights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import Calendar, add_business_time, business_time_between, is_open, next_open
from tests.calendars.builders import calendar, example, reference_between

PARIS = example("paris_sales")
# Working through the nights the clocks change (Sunday 01:00-03:00), across midnight on Saturdays.
NIGHTS = calendar(
    hours={"monday": ["09:00-12:00"], "saturday": ["22:00-24:00"], "sunday": ["00:00-00:30", "01:00-03:00"]},
    holidays={"country": "FR"},
)
CALENDARS = st.sampled_from([PARIS, NIGHTS])
# The changes of 2026 and 2027 in Paris, so that starts fall near them often.
CHANGES = [datetime(2026, 3, 29, 1), datetime(2026, 10, 25, 1), datetime(2027, 3, 28, 1), datetime(2027, 10, 31, 1)]
NEAR_CHANGES = st.builds(
    lambda change, offset: (change + offset).replace(tzinfo=UTC),
    st.sampled_from(CHANGES),
    st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)),
)
ANYWHEN = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
STARTS = st.one_of(ANYWHEN, NEAR_CHANGES)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=400))
TINY = timedelta(microseconds=1)


@settings(max_examples=300, deadline=None)
@given(cal=CALENDARS, start=STARTS, duration=DURATIONS)
def test_the_time_between_start_and_the_sum_is_what_was_added(cal: Calendar, start: datetime, duration: timedelta):
    result = add_business_time(cal, start, duration)
    assert business_time_between(cal, start, result) == duration
    assert reference_between(cal, start, result) == duration


@settings(max_examples=300, deadline=None)
@given(cal=CALENDARS, start=STARTS, duration=DURATIONS)
def test_the_sum_ends_in_working_time_unless_nothing_was_added(cal: Calendar, start: datetime, duration: timedelta):
    result = add_business_time(cal, start, duration)
    if duration == timedelta(0):
        assert result == start
    else:
        # The last microsecond before the result was worked: the result closes working time, never sits in a gap.
        assert is_open(cal, result - TINY)
        assert result > start


@settings(max_examples=300, deadline=None)
@given(cal=CALENDARS, start=STARTS, durations=st.lists(DURATIONS, min_size=2, max_size=2))
def test_the_sum_grows_with_the_duration(cal: Calendar, start: datetime, durations: list[timedelta]):
    shorter, longer = sorted(durations)
    assert add_business_time(cal, start, shorter) <= add_business_time(cal, start, longer)


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, instants=st.lists(STARTS, min_size=3, max_size=3))
def test_time_between_adds_up_and_matches_a_date_by_date_sum(cal: Calendar, instants: list[datetime]):
    first, middle, last = sorted(instants)
    between = business_time_between(cal, first, last)
    assert between == business_time_between(cal, first, middle) + business_time_between(cal, middle, last)
    assert between == reference_between(cal, first, last)


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, at=STARTS)
def test_the_next_opening_is_open_and_nothing_before_it_is(cal: Calendar, at: datetime):
    opening = next_open(cal, at)
    assert opening >= at
    assert is_open(cal, opening)
    assert business_time_between(cal, at, opening) == timedelta(0)
    assert is_open(cal, at) == (opening == at)
