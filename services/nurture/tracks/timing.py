"""When a step is due, and when its action may go out: waits, frequency caps and quiet hours. Pure.

Real-time durations are added in UTC, so a "P1D" wait across a clock change lasts 24 real hours. A time of day
is wall time in the contact's zone: a wall time the spring change skips is the instant the clock jumps, an
ambiguous one in autumn is its first occurrence (calendars.model.local_to_utc), so "10:00" stays 10:00 local
whatever the offset. An action over a cap or inside quiet hours is deferred to the first instant it fits,
never dropped, and the reasons say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendars import add_business_days
from calendars.model import local_to_utc
from services.nurture.tracks.compiled import CompiledSettings, Quiet, StepWait

FREQUENCY_CAP = "frequency_cap"
QUIET_HOURS = "quiet_hours"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Slot:
    """When an action may go out: `at`, and why it was deferred from the time asked (empty: it was not)."""

    at: datetime
    reasons: tuple[str, ...] = ()
    details: tuple[str, ...] = ()

    @property
    def deferred(self) -> bool:
        """True if the action cannot go out at the time asked."""
        return bool(self.reasons)


def contact_zone(name: str | None, settings: CompiledSettings) -> ZoneInfo:
    """The contact's time zone, or the settings' default when it is unknown or not a valid IANA name."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return settings.default_zone


def step_due(wait: StepWait, start: datetime, zone: ZoneInfo) -> datetime:
    """When a step whose wait began at `start` comes due, for a contact in `zone` (UTC)."""
    due = _aware(start, "start").astimezone(UTC)
    if wait.duration is not None:
        due += wait.duration
    elif wait.business_days is not None and wait.calendar is not None:
        due = add_business_days(wait.calendar, due, wait.business_days)
    if wait.at is not None:
        due = next_local_time(due, wait.at, zone)
    return due


def next_local_time(after: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first instant at or after `after` when the wall clock in `zone` reads `at` (or jumps over it)."""
    day = after.astimezone(zone).date()
    for offset in range(3):  # today, else tomorrow; a third day only if tomorrow's is skipped before `after`
        candidate = local_to_utc(zone, datetime.combine(day + timedelta(days=offset), at))
        if candidate >= after:
            return candidate
    raise AssertionError("unreachable: a wall time recurs every day")  # pragma: no cover


def action_slot(
    channel: str, at: datetime, sent: Sequence[datetime], settings: CompiledSettings, zone: ZoneInfo
) -> Slot:
    """The first instant at or after `at` when an action on `channel` fits the caps and quiet hours.

    `sent` holds the times of the contact's earlier actions on that channel, across all tracks (at or before
    `at`). A cap of N in a window W allows an action at t if fewer than N were sent in (t - W, t].
    """
    cursor = _aware(at, "at").astimezone(UTC)
    reasons: list[str] = []
    details: list[str] = []
    cap = settings.caps.get(channel)
    quiet = settings.quiet_hours if settings.quiet_hours and channel in settings.quiet_hours.channels else None
    history = sorted(sent_at.astimezone(UTC) for sent_at in sent)
    for _ in range(len(history) + 3):  # each turn moves forward past a send or a night: it settles quickly
        moved = False
        if cap is not None:
            recent = [sent_at for sent_at in history if cursor - cap.window < sent_at <= cursor]
            if len(recent) >= cap.max_actions:
                cursor = recent[len(recent) - cap.max_actions] + cap.window
                _note(
                    reasons, details, FREQUENCY_CAP, f"at most {cap.max_actions} {channel} in {cap.window / DAY:g} days"
                )
                moved = True
        if quiet is not None and in_quiet_hours(cursor, quiet, zone):
            cursor = quiet_end(cursor, quiet, zone)
            _note(reasons, details, QUIET_HOURS, f"quiet {quiet.start:%H:%M}-{quiet.end:%H:%M} {zone.key}")
            moved = True
        if not moved:
            return Slot(cursor, tuple(reasons), tuple(details))
    raise AssertionError("unreachable: caps and quiet hours settle")  # pragma: no cover


def in_quiet_hours(at: datetime, quiet: Quiet, zone: ZoneInfo) -> bool:
    """True if the wall clock in `zone` at `at` is within the quiet hours."""
    local = at.astimezone(zone).time()
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def quiet_end(at: datetime, quiet: Quiet, zone: ZoneInfo) -> datetime:
    """The instant the quiet hours around `at` end."""
    local = at.astimezone(zone)
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)  # evening part of a night: it ends tomorrow morning
    return local_to_utc(zone, datetime.combine(day, quiet.end))


def _note(reasons: list[str], details: list[str], reason: str, detail: str) -> None:
    if reason not in reasons:
        reasons.append(reason)
        details.append(detail)


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must be timezone-aware (got {value.isoformat()})")
    return value
