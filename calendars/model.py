"""A business calendar in memory, and the open intervals of one local date as UTC instants.

Wall time to instant, at daylight-saving changes: an ambiguous wall time (the repeated hour in autumn) is its
first occurrence; a wall time that does not exist (the skipped hour in spring) is the instant the clock jumps.
Both rules keep the mapping monotonic, so a day's ranges stay ordered and disjoint once in UTC: a range
01:00-03:00 lasts one real hour on the night clocks go forward in Paris, and three on the night they go back.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from holidays import HolidayBase

Range = tuple[int, int]  # minutes since local midnight, [start, end), end <= 1440
Interval = tuple[datetime, datetime]  # UTC instants, [start, end)

MINUTES_PER_DAY = 1440
_Cached = TypeVar("_Cached")
_CACHED_DAYS = 20_000  # about 55 years of dates per calendar; the cache is dropped beyond that


class CalendarError(ValueError):
    """A calendar that cannot be built or used; the message names the calendar and the field."""


@dataclass(frozen=True, eq=False)
class Calendar:
    """Working ranges per weekday in a time zone, less holidays, with dates that have their own ranges."""

    name: str
    zone: ZoneInfo
    weekly: tuple[tuple[Range, ...], ...]  # seven entries, Monday first
    public_holidays: HolidayBase | None
    closed_dates: frozenset[date]
    date_overrides: Mapping[date, tuple[Range, ...]]
    _days: dict[date, tuple[Interval, ...]] = field(default_factory=dict, init=False, repr=False)
    _blocks: dict[date, Block] = field(default_factory=dict, init=False, repr=False)

    @property
    def week_open_time(self) -> timedelta:
        """Working time of a week with no holiday, override or clock change."""
        return timedelta(minutes=sum(end - start for day in self.weekly for start, end in day))

    @property
    def week_business_days(self) -> int:
        """Days with working time in a week with no holiday or override."""
        return sum(1 for day in self.weekly if day)


def _is_special(calendar: Calendar, day: date) -> bool:
    """Whether the date's ranges are not simply its weekday's: a holiday, a closed date or an override."""
    return (
        day in calendar.date_overrides
        or day in calendar.closed_dates
        or (calendar.public_holidays is not None and day in calendar.public_holidays)
    )


def working_ranges(calendar: Calendar, day: date) -> tuple[Range, ...]:
    """The working ranges of a local date, in wall-clock minutes."""
    override = calendar.date_overrides.get(day)
    if override is not None:
        return override
    if day in calendar.closed_dates or (calendar.public_holidays is not None and day in calendar.public_holidays):
        return ()
    return calendar.weekly[day.weekday()]


def open_intervals(calendar: Calendar, day: date) -> tuple[Interval, ...]:
    """The open intervals of a local date as UTC instants, in order and disjoint."""
    intervals = calendar._days.get(day)
    if intervals is None:
        converted = (
            (wall_to_utc(calendar.zone, day, start), wall_to_utc(calendar.zone, day, end))
            for start, end in working_ranges(calendar, day)
        )
        # A range wholly inside the skipped hour of a spring night has no instant: it is dropped.
        intervals = tuple((start, end) for start, end in converted if end > start)
        _remember(calendar._days, day, intervals)
    return intervals


@dataclass(frozen=True)
class Block:
    """A run of local dates walked at once: one date, or a whole week that follows the weekly template."""

    start: datetime  # UTC, the first instant of the first date
    end: datetime  # UTC, the first instant of the date after the last
    open_time: timedelta
    business_days: int
    days: tuple[date, ...]


def block_from(calendar: Calendar, day: date) -> Block:
    """The block beginning on a local date: the week when `day` is a Monday of a plain week, else the date."""
    block = calendar._blocks.get(day)
    if block is None:
        block = (_plain_week(calendar, day) if day.weekday() == 0 else None) or _single_day(calendar, day)
        _remember(calendar._blocks, day, block)
    return block


def _single_day(calendar: Calendar, day: date) -> Block:
    intervals = open_intervals(calendar, day)
    open_time = sum((end - start for start, end in intervals), timedelta(0))
    after = day + timedelta(days=1)
    return Block(midnight(calendar, day), midnight(calendar, after), open_time, int(bool(intervals)), (day,))


def _plain_week(calendar: Calendar, monday: date) -> Block | None:
    """The week from `monday` as one block, if every date follows the template and lasts 24 real hours."""
    days = tuple(monday + timedelta(days=offset) for offset in range(7))
    if any(_is_special(calendar, day) for day in days):
        return None
    # A date of 24 real hours has no clock change (no zone changes twice in a day), so its ranges last as written.
    midnights = [midnight(calendar, day) for day in (*days, monday + timedelta(days=7))]
    if any(after - before != timedelta(days=1) for before, after in itertools.pairwise(midnights)):
        return None
    return Block(midnights[0], midnights[-1], calendar.week_open_time, calendar.week_business_days, days)


def _remember(cache: dict[date, _Cached], key: date, value: _Cached) -> None:
    if len(cache) >= _CACHED_DAYS:
        cache.clear()
    cache[key] = value


def wall_to_utc(zone: ZoneInfo, day: date, minute: int) -> datetime:
    """The UTC instant of a wall-clock minute of a local date (1440 is the next midnight)."""
    if minute == MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), 0
    return local_to_utc(zone, datetime.combine(day, time(minute // 60, minute % 60)))


def local_to_utc(zone: ZoneInfo, wall: datetime) -> datetime:
    """The UTC instant of a naive wall time in `zone`: first occurrence if ambiguous, the jump if skipped."""
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # Skipped: fold=1 reads the wall time with the offset after the jump (an instant before it), fold=0 with
    # the offset before (an instant after it); the jump lies between, on a whole second.
    before = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    after = int(instant.timestamp())
    offset_before = datetime.fromtimestamp(before, zone).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return datetime.fromtimestamp(after, UTC)


def midnight(calendar: Calendar, day: date) -> datetime:
    """The first instant of a local date, in UTC."""
    return wall_to_utc(calendar.zone, day, 0)
