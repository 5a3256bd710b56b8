"""What happens when a step of an enrollment comes due, or its contact engages: pure, `now` given.

The flow over the tracks' decisions: consent (contacts.domain), skip conditions (tracks.matching), caps and quiet
hours (tracks.timing.action_slot), due times (tracks.timing.step_due) and branches (tracks.branching.after_step).

The catch-up policy lives here: a step fires once however late it is, and the next step's wait counts from the
moment the step was actually taken, so steps overdue after an outage never chain into a burst; caps and quiet
hours are judged at that moment too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from services.nurture.contacts.domain import may_contact
from services.nurture.tracks.branching import AfterStep, after_step
from services.nurture.tracks.compiled import CompiledSettings, CompiledStep, CompiledTrack
from services.nurture.tracks.document import FINISHED
from services.nurture.tracks.matching import LeadProfile, should_skip
from services.nurture.tracks.timing import action_slot, contact_zone, step_due

ACTION = "action"
BRANCH = "branch"
EXHAUSTED = FINISHED


@dataclass(frozen=True)
class Position:
    """Where an enrollment stands: the step awaited, what of it is awaited, and when; no step: the track is done."""

    step: int | None
    phase: str | None
    due_at: datetime | None


DONE = Position(None, None, None)


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


def first(track: CompiledTrack, *, enrolled_at: datetime, zone: ZoneInfo) -> Position:
    """The position of a new enrollment: its first step, due after that step's wait."""
    return _at(track, 1, after=enrolled_at, zone=zone)


def fire(
    track: CompiledTrack,
    settings: CompiledSettings,
    *,
    position: Position,
    lead: LeadProfile,
    now: datetime,
    sends: Mapping[str, Sequence[datetime]],
) -> Fired:
    """The step awaited came due at `now`: check consent, skip conditions, caps and quiet hours, then act.

    `lead.engaged_content` must hold what the contact engaged with when a skip condition reads it; `sends` holds
    the contact's earlier actions per channel, across all tracks.
    """
    assert position.step is not None, "a finished enrollment has no step to fire"
    step = track.step(position.step)
    zone = contact_zone(lead.time_zone, settings)
    refused = may_contact(lead)
    if refused is not None:
        return Fired((Run(step, "withheld", f"the contact is {refused}"),), DONE, refused)
    if position.phase == BRANCH and step.branch is not None and position.due_at is not None:
        # The engagement window closed without engagement (engaging moves the enrollment on at once).
        outcome = after_step(step, position.due_at - step.branch.within, None, now)
        run = Run(step, "branched", f"no engagement within {step.branch.within.days} days: the alternate path")
        return _then(track, (run,), step, outcome, now=now, zone=zone)
    runs: list[Run] = []
    while should_skip(step, lead):
        runs.append(Run(step, "skipped", "its skip condition holds"))
        if step.next is None:
            return Fired(tuple(runs), DONE, EXHAUSTED)
        step = track.step(step.next)
        if step_due(step.wait, now, zone) > now:  # the following step has a wait of its own: it counts from now
            return Fired(tuple(runs), _at(track, step.number, after=now, zone=zone))
    slot = action_slot(step.action.channel, now, sends.get(step.action.channel, ()), settings, zone)
    if slot.deferred:
        runs.append(Run(step, "deferred", "; ".join(slot.details), slot.at))
        return Fired(tuple(runs), Position(step.number, ACTION, slot.at))
    runs.append(Run(step, "sent"))
    return _then(track, tuple(runs), step, after_step(step, now, None, now), now=now, zone=zone)


def engaged(
    track: CompiledTrack, *, position: Position, step: int, acted_at: datetime, at: datetime, zone: ZoneInfo
) -> Position | None:
    """The contact engaged at `at` with step `step`'s content, sent at `acted_at`: if the enrollment waits for
    exactly that, within the window, it goes on now (the new position); otherwise nothing changes (None)."""
    if position.phase != BRANCH or position.step != step:
        return None
    outcome = after_step(track.step(step), acted_at, at, now=at)
    if outcome.outcome != "engaged":
        return None
    return DONE if outcome.next_step is None else _at(track, outcome.next_step, after=outcome.since, zone=zone)


def _then(
    track: CompiledTrack,
    runs: tuple[Run, ...],
    step: CompiledStep,
    outcome: AfterStep,
    *,
    now: datetime,
    zone: ZoneInfo,
) -> Fired:
    if outcome.outcome == "waiting":
        return Fired(runs, Position(step.number, BRANCH, outcome.since))
    if outcome.next_step is None:
        return Fired(runs, DONE, EXHAUSTED)
    # Late (after an outage), the next wait counts from now, not from the deadline: no chain of overdue steps.
    return Fired(runs, _at(track, outcome.next_step, after=max(outcome.since, now), zone=zone))


def _at(track: CompiledTrack, number: int, *, after: datetime, zone: ZoneInfo) -> Position:
    return Position(number, ACTION, step_due(track.step(number).wait, after, zone))
