"""Business time on a calendar: add, measure, next opening, open or not, business days.

Instants in and out are timezone-aware; results are in UTC. The walk goes a local date at a time, and skips a
whole week at once when nothing in it differs from the weekly template (no holiday, override or clock change),
so 2,000 business hours cost about fifty week steps, not thousands of day or minute steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from calendars.model import Block, Calendar, CalendarError, Interval, block_from, local_to_utc, open_intervals

ZERO = timedelta(0)
DAY = timedelta(days=1)
# Public holidays never close a whole year; only a calendar whose every working weekday is closed could.
_DAYS_WITHOUT_WORK_ALLOWED = 3660


def is_open(calendar: Calendar, at: datetime) -> bool:
    """Whether the instant falls in working time."""
    at = _utc(at, "at")
    return any(start <= at < end for start, end in open_intervals(calendar, _local_date(calendar, at)))


def next_open(calendar: Calendar, at: datetime) -> datetime:
    """The first instant at or after `at` that is in working time (`at` itself when open)."""
    at = _utc(at, "at")
    day = _local_date(calendar, at)
    for _ in range(_DAYS_WITHOUT_WORK_ALLOWED):
        for start, end in open_intervals(calendar, day):
            if end > at:
                return max(start, at)
        day += DAY
    raise _no_work(calendar, at)


def add_business_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant at which `duration` of working time has passed since `start` (`start` itself for zero)."""
    cursor = _utc(start, "start")
    if duration < ZERO:
        raise ValueError(f"duration must be >= 0 (got {duration})")
    remaining = duration
    if remaining == ZERO:
        return cursor
    for block in _blocks(calendar, _local_date(calendar, cursor)):
        if block.start >= cursor and block.open_time < remaining:
            remaining -= block.open_time
            continue
        for interval_start, interval_end in _intervals(calendar, block):
            begin = max(interval_start, cursor)
            if interval_end <= begin:
                continue
            if interval_end - begin >= remaining:
                return begin + remaining
            remaining -= interval_end - begin
    raise AssertionError("unreachable: _blocks is endless or raises")  # pragma: no cover


def business_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Working time from `start` to `end` (negative when `end` comes first)."""
    start, end = _utc(start, "start"), _utc(end, "end")
    if end < start:
        return -business_time_between(calendar, end, start)
    total = ZERO
    for block in _blocks(calendar, _local_date(calendar, start)):
        if block.start >= end:
            return total
        if block.start >= start and block.end <= end:
            total += block.open_time
            continue
        for interval_start, interval_end in _intervals(calendar, block):
            total += max(ZERO, min(interval_end, end) - max(interval_start, start))
    raise AssertionError("unreachable: _blocks is endless or raises")  # pragma: no cover


def add_business_days(calendar: Calendar, start: datetime, days: int) -> datetime:
    """The same local wall time on the `days`-th date with working time after `start`'s local date."""
    start = _utc(start, "start")
    if days < 0:
        raise ValueError(f"days must be >= 0 (got {days})")
    if days == 0:
        return start
    wall = start.astimezone(calendar.zone).replace(tzinfo=None)
    counted = 0
    for block in _blocks(calendar, wall.date() + DAY):
        if counted + block.business_days < days:
            counted += block.business_days
            continue
        for day in block.days:
            counted += 1 if open_intervals(calendar, day) else 0
            if counted == days:
                return local_to_utc(calendar.zone, datetime.combine(day, wall.time()))
    raise AssertionError("unreachable: _blocks is endless or raises")  # pragma: no cover


def _blocks(calendar: Calendar, day: date) -> Iterator[Block]:
    """Consecutive blocks from a local date on, endlessly, unless a decade passes without working time."""
    days_without_work = 0
    while True:
        block = block_from(calendar, day)
        yield block
        days_without_work = 0 if block.open_time else days_without_work + len(block.days)
        if days_without_work >= _DAYS_WITHOUT_WORK_ALLOWED:
            raise _no_work(calendar, block.start)
        day = block.days[-1] + DAY


def _intervals(calendar: Calendar, block: Block) -> Iterator[Interval]:
    for day in block.days:
        yield from open_intervals(calendar, day)


def _local_date(calendar: Calendar, at: datetime) -> date:
    return at.astimezone(calendar.zone).date()


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must be timezone-aware (got {value.isoformat()})")
    return value.astimezone(UTC)


def _no_work(calendar: Calendar, at: datetime) -> CalendarError:
    return CalendarError(
        f"calendar {calendar.name}: no working time in the {_DAYS_WITHOUT_WORK_ALLOWED} days from {at}"
    )
