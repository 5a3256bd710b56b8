"""Tracks and settings compiled from their documents: plain frozen values the pure decisions take.

Compiling checks what one field cannot: step ids unique, `next` and `branch.otherwise` pointing at a later
step (so every path through a track ends), and calendars named by waits present in the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ValidationError

from calendars import Calendar, CalendarError, build_calendar
from services.nurture.tracks.document import (
    Action,
    Channel,
    Criteria,
    ExitReason,
    NurtureSettings,
    SkipCondition,
    TrackDocument,
)
from services.nurture.tracks.problems import TrackError, TrackProblem, from_pydantic

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Match:
    """Compiled criteria: None means "any"; industries lower-cased."""

    stages: frozenset[str] | None = None
    fit_grades: frozenset[str] | None = None
    industries: frozenset[str] | None = None
    employees_min: int | None = None
    employees_max: int | None = None
    has_employee_band: bool = False
    countries: frozenset[str] | None = None
    buying_roles: frozenset[str] | None = None
    recycle_reasons: frozenset[str] | None = None
    sources: frozenset[str] | None = None
    campaigns: frozenset[str] | None = None
    engaged_with: frozenset[str] | None = None  # skip conditions only


@dataclass(frozen=True)
class StepWait:
    """A step's wait: a real-time duration or business days on a calendar, then optionally a local time of day."""

    duration: timedelta | None = None
    business_days: int | None = None
    calendar: Calendar | None = None
    at: time | None = None


@dataclass(frozen=True)
class StepBranch:
    """Wait for engagement with the step's content for `within`; else go to step `otherwise` (None: the end)."""

    within: timedelta
    otherwise: int | None


@dataclass(frozen=True)
class CompiledStep:
    """One step: its number from 1, its wait, its action, and where the track goes after it."""

    number: int
    id: str
    wait: StepWait
    action: Action
    skip_if: Match | None
    branch: StepBranch | None
    next: int | None  # the step after this one; None: the track is finished


@dataclass(frozen=True)
class CompiledTrack:
    """A track version, ready for the decisions: entry, steps, exits, re-entry."""

    key: str
    version: int
    name: str
    priority: int
    entry: Match
    steps: tuple[CompiledStep, ...]
    exit_on: frozenset[ExitReason]
    reentry_allowed: bool
    cooldown: timedelta

    def step(self, number: int) -> CompiledStep:
        """Step `number` (from 1)."""
        if not 1 <= number <= len(self.steps):
            raise ValueError(f"track {self.key} v{self.version}: no step {number} (it has {len(self.steps)})")
        return self.steps[number - 1]


@dataclass(frozen=True)
class ChannelCap:
    """At most `max_actions` of a channel per contact in any `window`."""

    max_actions: int
    window: timedelta


@dataclass(frozen=True)
class Quiet:
    """Quiet hours in the contact's local time, for some channels."""

    start: time
    end: time
    channels: frozenset[Channel]


@dataclass(frozen=True)
class CompiledSettings:
    """The nurture settings, ready for the decisions."""

    default_zone: ZoneInfo
    calendars: Mapping[str, Calendar]
    caps: Mapping[str, ChannelCap]
    quiet_hours: Quiet | None


def compile_settings(doc: Mapping[str, Any] | NurtureSettings) -> CompiledSettings:
    """Validate and build the nurture settings; raise TrackError naming the field."""
    settings = _validate(NurtureSettings, doc, track=None)
    calendars: dict[str, Calendar] = {}
    problems = []
    for name, spec in settings.calendars.items():
        try:
            calendars[name] = build_calendar(name, spec)
        except CalendarError as error:
            problems.append(TrackProblem(None, None, None, f"calendars.{name}", str(error)))
    if problems:
        raise TrackError(problems)
    quiet = settings.quiet_hours
    return CompiledSettings(
        default_zone=ZoneInfo(settings.default_time_zone),
        calendars=calendars,
        caps={cap.channel: ChannelCap(cap.max_actions, timedelta(days=cap.window_days)) for cap in settings.caps},
        quiet_hours=Quiet(quiet.start, quiet.end, frozenset(quiet.channels)) if quiet else None,
    )


def parse_track(doc: Mapping[str, Any] | TrackDocument) -> TrackDocument:
    """Validate a track document (parsed YAML or JSON); raise TrackError naming the track, step and field."""
    return _validate(TrackDocument, doc, track=None)


def compile_track(
    doc: Mapping[str, Any] | TrackDocument, settings: CompiledSettings, *, version: int = 1
) -> CompiledTrack:
    """Validate a track against the settings and compile it; raise TrackError naming the track, step and field."""
    track = parse_track(doc)
    problems = track_problems(track, settings)
    if problems:
        raise TrackError(problems)
    numbers = {step.id: number for number, step in enumerate(track.steps, start=1)}

    def target(name: str | None, default: int | None) -> int | None:
        return default if name is None else None if name == "end" else numbers[name]

    steps = []
    for number, step in enumerate(track.steps, start=1):
        following = number + 1 if number < len(track.steps) else None
        wait = step.wait
        steps.append(
            CompiledStep(
                number=number,
                id=step.id,
                wait=StepWait(
                    duration=wait.duration,
                    business_days=wait.business_days,
                    calendar=settings.calendars[wait.calendar] if wait.calendar else None,
                    at=wait.at,
                ),
                action=step.action,
                skip_if=compile_match(step.skip_if) if step.skip_if else None,
                branch=StepBranch(timedelta(days=step.branch.within_days), target(step.branch.otherwise, None))
                if step.branch
                else None,
                next=target(step.next, following),
            )
        )
    return CompiledTrack(
        key=track.key,
        version=version,
        name=track.name,
        priority=track.priority,
        entry=compile_match(track.entry),
        steps=tuple(steps),
        exit_on=frozenset(track.exit_on),
        reentry_allowed=track.reentry.allowed,
        cooldown=timedelta(days=track.reentry.cooldown_days),
    )


def track_problems(track: TrackDocument, settings: CompiledSettings) -> list[TrackProblem]:
    """What is wrong across the fields of a valid-looking track: ids, step references, calendars."""
    problems: list[TrackProblem] = []
    first: dict[str, int] = {}
    for number, step in enumerate(track.steps, start=1):

        def problem(field: str, message: str, number: int = number, step_id: str = step.id) -> None:
            problems.append(TrackProblem(track.key, number, step_id, field, message))

        if step.id in first:
            problem("id", f"`{step.id}` is already the id of step {first[step.id]}")
        first.setdefault(step.id, number)
        if step.wait.calendar is not None and step.wait.calendar not in settings.calendars:
            known = ", ".join(sorted(settings.calendars)) or "none"
            problem("wait.calendar", f"no calendar `{step.wait.calendar}` in the nurture settings (known: {known})")
        for field, name in (("next", step.next), ("branch.otherwise", step.branch.otherwise if step.branch else None)):
            if name is None or name == "end":
                continue
            ids = [later.id for later in track.steps[number:]]
            if name not in ids:
                where = "an earlier step or itself" if any(s.id == name for s in track.steps) else "no step"
                problem(field, f"`{name}` is {where}: name a later step or end")
    return problems


def compile_match(criteria: Criteria) -> Match:
    """Criteria (or a skip condition) as sets of plain values."""
    band = criteria.employee_band

    def codes(values: list[str] | None, *, fold: bool = False) -> frozenset[str] | None:
        return None if values is None else frozenset(value.casefold() if fold else value for value in values)

    return Match(
        stages=codes(list(criteria.stages) if criteria.stages else None),
        fit_grades=codes(list(criteria.fit_grades) if criteria.fit_grades else None),
        industries=codes(criteria.industries, fold=True),
        employees_min=band.min if band else None,
        employees_max=band.max if band else None,
        has_employee_band=band is not None,
        countries=codes(criteria.countries),
        buying_roles=codes(criteria.buying_roles),
        recycle_reasons=codes(criteria.recycle_reasons),
        sources=codes(criteria.sources, fold=True),
        campaigns=codes(criteria.campaigns),
        engaged_with=codes(criteria.engaged_with) if isinstance(criteria, SkipCondition) else None,
    )


@dataclass(frozen=True)
class TrackFile:
    """A validated file of tracks: its settings part, as written and compiled, and its track documents."""

    settings: NurtureSettings
    compiled_settings: CompiledSettings
    tracks: tuple[TrackDocument, ...]


def parse_file(doc: Any) -> TrackFile:
    """Validate a file of tracks (settings at the top, `tracks:` below); every problem of every track at once."""
    if not isinstance(doc, Mapping):
        raise TrackError(
            [TrackProblem(None, None, None, None, f"the file must be a mapping (got {type(doc).__name__})")]
        )
    problems: list[TrackProblem] = []
    settings = compiled = None
    try:
        settings = _validate(NurtureSettings, {k: v for k, v in doc.items() if k != "tracks"}, track=None)
        compiled = compile_settings(settings)
    except TrackError as error:
        problems.extend(error.problems)
    raw_tracks = doc.get("tracks", [])
    if not isinstance(raw_tracks, list):
        raise TrackError([*problems, TrackProblem(None, None, None, "tracks", "must be a list of tracks")])
    tracks: list[TrackDocument] = []
    for position, raw in enumerate(raw_tracks, start=1):
        try:
            track = parse_track(raw)
        except TrackError as error:
            problems.extend(_numbered(error.problems, position))
            continue
        if any(track.key == earlier.key for earlier in tracks):
            problems.append(
                TrackProblem(track.key, None, None, "key", f"track {position} reuses the key of an earlier track")
            )
        tracks.append(track)
        if compiled is not None:
            problems.extend(track_problems(track, compiled))
    if problems or settings is None or compiled is None:
        raise TrackError(problems)
    return TrackFile(settings, compiled, tuple(tracks))


def _numbered(problems: list[TrackProblem], position: int) -> list[TrackProblem]:
    """Problems of a track with no valid key: named by their position in the file."""
    return [
        problem
        if problem.track
        else TrackProblem(f"#{position}", problem.step, problem.step_id, problem.field, problem.message)
        for problem in problems
    ]


def load_yaml(text: str) -> Any:
    """Parse YAML (JSON is YAML too); raise TrackError on a syntax error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TrackError([TrackProblem(None, None, None, None, f"not valid YAML: {exc}")]) from None


def _whole(track: str | None, message: str) -> TrackProblem:
    return TrackProblem(track, None, None, None, message)


def _validate(model: type[Model], doc: Mapping[str, Any] | Model, *, track: str | None) -> Model:
    if isinstance(doc, model):
        return doc
    if not isinstance(doc, Mapping):
        what = "a track" if model is TrackDocument else "the nurture settings"
        raise TrackError(
            [TrackProblem(track, None, None, None, f"{what} must be a mapping (got {type(doc).__name__})")]
        )
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise TrackError(from_pydantic(exc.errors(), doc, track=track)) from None
