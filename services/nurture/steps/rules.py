"""The time rules a due step needs: when a wait ends, and when caps and quiet hours let an action go.

Written here while the tracks' own decisions were not yet available; see the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from calendars import add_business_days
from services.nurture.tracks.compiled import CompiledSettings, StepWait

_MAX_ROUNDS = 50


def step_due(wait: StepWait, *, after: datetime, zone: ZoneInfo) -> datetime:
    """When a step whose wait starts at `after` is due: the duration or business days, then the time of day."""
    due = after
    if wait.duration is not None:
        due = due + wait.duration
    elif wait.business_days is not None and wait.calendar is not None:
        due = add_business_days(wait.calendar, due, wait.business_days)
    if wait.at is not None:
        due = next_local_time(due, wait.at, zone)
    return due


def next_local_time(after: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first instant at or after `after` whose wall time in `zone` is `at` (a time skipped by DST: just after)."""
    local = after.astimezone(zone)
    for offset in range(3):
        day = (local + timedelta(days=offset)).date()
        candidate = datetime.combine(day, at, zone)
        if candidate.astimezone(zone).time() != at:  # the wall time does not exist that day (spring forward)
            candidate = datetime.combine(day, at, zone).astimezone(zone)
        if candidate >= after:
            return candidate.astimezone(after.tzinfo)
    raise AssertionError("unreachable: a time of day recurs within two days")


def allowed_at(
    channel: str,
    *,
    now: datetime,
    sends: Mapping[str, Sequence[datetime]],
    zone: ZoneInfo,
    settings: CompiledSettings,
) -> tuple[datetime, str | None]:
    """The first instant from `now` at which an action on `channel` breaks no cap and no quiet hours, and why it
    had to wait (None if it need not)."""
    at, reason = now, None
    for _ in range(_MAX_ROUNDS):
        capped = _cap_free_at(channel, at, sends.get(channel, ()), settings)
        quiet = _quiet_over_at(channel, capped, zone, settings)
        if capped > at:
            reason = reason or _cap_reason(channel, settings)
        if quiet > capped:
            reason = reason or f"quiet hours in {zone.key}"
        if quiet == at:
            return at, reason
        at = quiet
    return at, reason


def _cap_reason(channel: str, settings: CompiledSettings) -> str:
    cap = settings.caps[channel]
    return f"cap: {cap.max_actions} {channel} per {cap.window / timedelta(days=1):g} days"


def _cap_free_at(channel: str, at: datetime, sent: Sequence[datetime], settings: CompiledSettings) -> datetime:
    cap = settings.caps.get(channel)
    if cap is None:
        return at
    window = sorted(moment for moment in sent if at - cap.window < moment <= at)
    if len(window) < cap.max_actions:
        return at
    # The oldest sends must leave the window until one fewer than the cap remain.
    return window[len(window) - cap.max_actions] + cap.window


def _quiet_over_at(channel: str, at: datetime, zone: ZoneInfo, settings: CompiledSettings) -> datetime:
    quiet = settings.quiet_hours
    if quiet is None or channel not in quiet.channels:
        return at
    local = at.astimezone(zone).time()
    inside = quiet.start <= local < quiet.end if quiet.start < quiet.end else local >= quiet.start or local < quiet.end
    return next_local_time(at, quiet.end, zone) if inside else at
