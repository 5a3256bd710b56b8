"""The work of a simulation: load the stored history, replay it through a definition and the one in force, compare.

Behind the simulation jobs (simulation/jobs.py) and `leadflow definition simulate --here`. The history is read in
a session of its own that ends before the replay: on SQLite every transaction holds the write lock, and a replay
of minutes must not hold up the consumers (nor the job's progress reports).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from services.lead_scoring import repository
from services.lead_scoring.definitions import repository as definitions
from services.lead_scoring.definitions.document import DefinitionError, LeadDefinition, parse_definition
from services.lead_scoring.models import LeadDefinitionVersion
from services.lead_scoring.simulation.repository import load_history
from services.lead_scoring.simulation.runner import (
    DEFAULT_SEGMENTS,
    DefinitionQuality,
    History,
    Outcome,
    Qualification,
    SimulationResult,
    compare,
    paused_collection,
    simulate,
)
from services.lead_scoring.simulation.schemas import (
    ComparisonOut,
    QualificationOut,
    QualityOut,
    RuleHitsOut,
    SimulateIn,
    SimulationOut,
)

Progress = Callable[[str, int, int], None]
"""`progress(phase, done, total)`: loading, replaying (touches done of total, over every definition), comparing."""


class SimulationFailed(Exception):  # noqa: N818 - reads as what it is
    """The simulation cannot run: its definition is gone or unreadable; the message names which and why."""


@dataclass(frozen=True)
class Subject:
    """A definition simulated: its row's id and status (the answer names it by them) and its rules."""

    definition_id: uuid.UUID
    status: str
    definition: LeadDefinition


@dataclass(frozen=True)
class Loaded:
    """What a simulation replays: the definition asked for, the one in force (if another), and the history."""

    request: SimulateIn
    subjects: tuple[Subject, ...]
    in_force: Subject | None
    history: History


@dataclass(frozen=True)
class Replayed:
    """What each definition did, and the sales outcomes they are judged by (the history itself is dropped)."""

    request: SimulateIn
    subjects: tuple[Subject, ...]
    in_force: Subject | None
    results: tuple[SimulationResult, ...]
    outcomes: Mapping[uuid.UUID, Sequence[Outcome]]


def run_simulation(
    open_session: Callable[[], AbstractContextManager[Session]],
    *,
    definition_id: uuid.UUID,
    request: SimulateIn,
    workers: int = 1,
    progress: Progress | None = None,
) -> ComparisonOut:
    """A definition against the one in force on the stored history; the history is read in its own session."""
    if (problem := window_problem(request)) is not None:
        raise SimulationFailed(f"end: {problem}")
    report = progress or _silent
    started = time.perf_counter()
    with paused_collection():  # until the history is dropped: see paused_collection
        report("loading", 0, 0)
        with open_session() as session:
            loaded = load(session, definition_id=definition_id, request=request)
        replayed = replay(loaded, workers=workers, progress=report)
        del loaded
    seconds = time.perf_counter() - started
    touches = replayed.results[0].touches * len(replayed.results)
    report("comparing", touches, touches)
    return comparison(replayed, seconds=seconds)


def window_problem(request: SimulateIn) -> str | None:
    """What is wrong with the window asked for (its end must come after its start), or None."""
    if request.end > request.start:
        return None
    return f"must be after start (got start {request.start.isoformat()}, end {request.end.isoformat()})"


def load(session: Session, *, definition_id: uuid.UUID, request: SimulateIn) -> Loaded:
    """The definition asked for, the one in force and every stored touch before the window's end."""
    row = definitions.definition_by_id(session, definition_id=definition_id)
    if row is None:
        raise SimulationFailed(f"no lead definition {definition_id}")
    published = definitions.published_row(session)
    subjects = [_subject(session, row)]
    if published is not None and published.id != row.id:
        subjects.append(_subject(session, published))
    in_force = None if published is None else subjects[-1]
    history = load_history(session, end=request.end)
    return Loaded(request, tuple(subjects), in_force, history)


def replay(loaded: Loaded, *, workers: int = 1, progress: Progress | None = None) -> Replayed:
    """Replay the history through each definition; progress counts touches over all of them."""
    report = progress or _silent
    request = loaded.request
    segments = (request.segment,) if request.segment else DEFAULT_SEGMENTS
    touches = loaded.history.touch_count()
    total = touches * len(loaded.subjects)
    results = []
    for number, subject in enumerate(loaded.subjects):
        offset = number * touches
        report("replaying", offset, total)
        results.append(
            simulate(
                subject.definition,
                loaded.history,
                start=request.start,
                end=request.end,
                segments=segments,
                workers=workers,
                progress=_replaying(report, offset, total),
            )
        )
    return Replayed(request, loaded.subjects, loaded.in_force, tuple(results), loaded.history.outcomes())


def comparison(replayed: Replayed, *, seconds: float) -> ComparisonOut:
    """The answer: each definition's MQLs, rules and quality, and the leads one qualifies and the other not."""
    draft = replayed.results[0]
    published = None if replayed.in_force is None else replayed.results[-1]
    compared = compare(published, draft, replayed.outcomes)
    in_force = replayed.in_force
    return ComparisonOut(
        start=replayed.request.start,
        end=replayed.request.end,
        touches=draft.touches,
        seconds=round(seconds, 3),
        draft=_simulation_out(replayed.subjects[0], draft, compared.draft),
        published=_simulation_out(in_force, published, compared.published)
        if in_force and published and compared.published
        else None,
        newly_qualified=[_qualification_out(q) for q in compared.newly_qualified],
        dropped=[_qualification_out(q) for q in compared.dropped],
    )


def _replaying(report: Progress, offset: int, total: int) -> Callable[[int, int], None]:
    """One definition's replay progress, as touches over every definition's."""
    return lambda done, _: report("replaying", offset + done, total)


def _silent(phase: str, done: int, total: int) -> None:
    """No one is watching."""


def _subject(session: Session, row: LeadDefinitionVersion) -> Subject:
    if row.version is not None:
        return Subject(row.id, row.status, repository.definition_of_version(session, row.version))
    try:
        return Subject(row.id, row.status, parse_definition(row.document))
    except DefinitionError as error:  # stored drafts are validated; this guards against older documents
        raise SimulationFailed(f"lead definition {row.id} is invalid: {error.errors[0]}") from None


def _simulation_out(subject: Subject, result: SimulationResult, quality: DefinitionQuality) -> SimulationOut:
    return SimulationOut(
        definition_id=subject.definition_id,
        name=result.definition_name,
        status=subject.status,
        version=result.definition_version,
        mqls=len(result.qualifications),
        leads=len(result.qualified_leads()),
        per_week=dict(result.per_week),
        per_source_system=dict(result.per_source_system),
        per_channel=dict(result.per_channel),
        per_campaign=dict(result.per_campaign),
        per_segment={name: dict(counts) for name, counts in result.per_segment.items()},
        quality=QualityOut(**asdict(quality)),
        rules=[
            RuleHitsOut(
                rule_id=hit.rule_id,
                kind=hit.kind,
                contacts=hit.contacts,
                touches=hit.touches,
                never_fired=hit.never_fired,
            )
            for hit in result.rule_hits
        ],
        never_fired=[hit.rule_id for hit in result.rule_hits if hit.never_fired],
        qualifications=[_qualification_out(q) for q in result.qualifications],
    )


def _qualification_out(qualification: Qualification) -> QualificationOut:
    return QualificationOut(**asdict(qualification))
