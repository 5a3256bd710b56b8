"""What happens when a step of an enrollment comes due, or its contact engages: pure, `now` given.

The catch-up policy lives here: a step fires once however late it is, and the next step's wait counts from the
moment the step was actually taken, so steps overdue after an outage never chain into a burst; caps and quiet
hours are judged at that moment too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.nurture.contacts.domain import Profile, matches, may_contact
from services.nurture.steps import rules
from services.nurture.tracks.compiled import CompiledSettings, CompiledStep, CompiledTrack

ACTION = "action"
BRANCH = "branch"
EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class Position:
    """Where an enrollment stands: the step awaited, what of it is awaited, and when; no step: the track is done."""

    step: int | None
    phase: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class Run:
    """What became of a step, for the history: sent, skipped, deferred, branched or withheld."""

    step: CompiledStep
    outcome: str
    detail: str | None = None
    deferred_until: datetime | None = None


@dataclass(frozen=True)
class Fired:
    """The decision on a due step: what to record, whether to send, where the enrollment goes (or why it ends)."""

    runs: tuple[Run, ...]
    position: Position
    exit_reason: str | None = None

    @property
    def sent(self) -> CompiledStep | None:
        """The step whose action is requested now, if one is."""
        return next((run.step for run in self.runs if run.outcome == "sent"), None)


def zone_of(profile: Profile, settings: CompiledSettings) -> ZoneInfo:
    """The contact's time zone, else the settings' default."""
    if profile.time_zone:
        try:
            return ZoneInfo(profile.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # a zone this host does not know: the default is better than no step at all
    return settings.default_zone


def first(track: CompiledTrack, *, enrolled_at: datetime, zone: ZoneInfo) -> Position:
    """The position of a new enrollment: its first step, due after that step's wait."""
    return _at(track, 1, after=enrolled_at, zone=zone)


def fire(
    track: CompiledTrack,
    settings: CompiledSettings,
    *,
    position: Position,
    profile: Profile,
    now: datetime,
    sends: Mapping[str, Sequence[datetime]],
    engaged_contents: Collection[str],
) -> Fired:
    """The step awaited came due at `now`: check consent, skip conditions, caps and quiet hours, then act."""
    assert position.step is not None, "a finished enrollment has no step to fire"
    step = track.step(position.step)
    zone = zone_of(profile, settings)
    refused = may_contact(profile)
    if refused is not None:
        return Fired((Run(step, "withheld", f"the contact is {refused}"),), Position(None, None, None), refused)
    if position.phase == BRANCH:
        assert step.branch is not None
        run = Run(step, "branched", f"no engagement within {_days(step.branch.within)}: the alternate path")
        return _then(track, (run,), step.branch.otherwise, after=now, zone=zone)
    runs: list[Run] = []
    while _skipped(step, profile, engaged_contents):
        runs.append(Run(step, "skipped", "its skip condition holds"))
        if step.next is None:
            return Fired(tuple(runs), Position(None, None, None), EXHAUSTED)
        step = track.step(step.next)
        if not _due_now(step):  # the following step has a wait of its own: it counts from now
            return _then(track, tuple(runs), step.number, after=now, zone=zone)
    allowed_at, reason = rules.allowed_at(step.action.channel, now=now, sends=sends, zone=zone, settings=settings)
    if allowed_at > now:
        runs.append(Run(step, "deferred", reason, allowed_at))
        return Fired(tuple(runs), Position(step.number, ACTION, allowed_at))
    runs.append(Run(step, "sent"))
    if step.branch is not None:
        return Fired(tuple(runs), Position(step.number, BRANCH, now + step.branch.within))
    return _then(track, tuple(runs), step.next, after=now, zone=zone)


def engaged(track: CompiledTrack, *, position: Position, step: int, at: datetime, zone: ZoneInfo) -> Position | None:
    """The contact engaged with step `step`'s content at `at`: if the enrollment waits for exactly that, it goes
    on now (the new position); otherwise nothing changes (None)."""
    if position.phase != BRANCH or position.step != step:
        return None
    following = track.step(step).next
    return Position(None, None, None) if following is None else _at(track, following, after=at, zone=zone)


def _then(track: CompiledTrack, runs: tuple[Run, ...], number: int | None, *, after: datetime, zone: ZoneInfo) -> Fired:
    if number is None:
        return Fired(runs, Position(None, None, None), EXHAUSTED)
    return Fired(runs, _at(track, number, after=after, zone=zone))


def _at(track: CompiledTrack, number: int, *, after: datetime, zone: ZoneInfo) -> Position:
    return Position(number, ACTION, rules.step_due(track.step(number).wait, after=after, zone=zone))


def _due_now(step: CompiledStep) -> bool:
    wait = step.wait
    return wait.at is None and wait.business_days is None and not wait.duration


def _skipped(step: CompiledStep, profile: Profile, engaged_contents: Collection[str]) -> bool:
    condition = step.skip_if
    if condition is None:
        return False
    if condition.engaged_with is not None and not condition.engaged_with & set(engaged_contents):
        return False
    return matches(condition, profile)


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return f"{days:g} day" + ("" if days == 1 else "s")
