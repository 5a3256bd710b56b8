"""Simulating a lead definition on stored history: what a draft would change against the definition in force."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from auth.tokens import Principal
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import SessionDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem
from services.lead_scoring import repository
from services.lead_scoring.definitions import commands
from services.lead_scoring.definitions.conditions import FIELD_PATTERN
from services.lead_scoring.definitions.document import DefinitionError, LeadDefinition, parse_definition
from services.lead_scoring.models import LeadDefinitionVersion
from services.lead_scoring.schemas import SaneTime
from services.lead_scoring.simulation.repository import load_history
from services.lead_scoring.simulation.runner import (
    DEFAULT_SEGMENTS,
    DefinitionQuality,
    Qualification,
    SimulationResult,
    compare,
    paused_collection,
    simulate,
)

router = APIRouter(prefix="/v1/definitions", tags=["lead definition"], route_class=LimitedRoute)

Simulator = Annotated[Principal, Depends(require_role("marketing_ops", "sales_ops", "manager"))]


class SimulateIn(BaseModel):
    """The window to replay, and what to break the MQLs down by."""

    start: SaneTime = Field(description="Qualifications from here on are reported; earlier touches are history.")
    end: SaneTime = Field(description="Nothing at or after `end` is replayed.")
    segment: str | None = Field(
        default=None,
        pattern=FIELD_PATTERN,
        description="An attribute to count MQLs by, e.g. account.country; default account.industry and "
        "account.employee_band (the headcount band).",
    )


class QualificationOut(BaseModel):
    """A lead that became an MQL in the replay, and the touch behind it."""

    contact_id: uuid.UUID
    account_id: uuid.UUID | None
    at: datetime
    reason: str = Field(description="hand_raiser or criteria.")
    cycle: int = Field(description="The lead's qualification cycle (a recycled lead qualifies again in a new one).")
    touch_id: str | None
    source_system: str | None
    channel: str | None
    campaign: str | None


class QualityOut(BaseModel):
    """How a definition's MQLs fared with sales (rates are null when nothing they count is known).

    acceptance_rate: accepted / (accepted + rejected) sales decisions on its MQLs; win_rate: won / (won + lost);
    precision: share of its MQLs with a known outcome that were good leads (accepted, converted or won);
    recall: share of all good leads that it qualified.
    """

    mqls: int
    with_outcome: int
    accepted: int
    rejected: int
    won: int
    lost: int
    good: int
    acceptance_rate: float | None
    win_rate: float | None
    precision: float | None
    recall: float | None


class RuleHitsOut(BaseModel):
    """How many contacts and touches one rule fired on in the replay."""

    rule_id: str
    kind: str = Field(description="fit, engagement, disqualifier or hand_raiser.")
    contacts: int = Field(
        description="Contacts it fired on (fit and disqualifiers: on the attributes as they are now)."
    )
    touches: int | None = Field(description="Touches it fired on (engagement rules and hand-raisers; null otherwise).")
    never_fired: bool = Field(description="True if it fired on no contact: check its path, touch types or values.")


class SimulationOut(BaseModel):
    """What one definition would have done in the window."""

    definition_id: uuid.UUID
    name: str
    status: str
    version: int | None
    mqls: int = Field(description="Qualifications in the window (a lead may qualify in two cycles).")
    leads: int = Field(description="Leads that qualified at least once.")
    per_week: dict[str, int] = Field(description="By ISO week (UTC) of the qualification, e.g. 2026-W05.")
    per_source_system: dict[str, int]
    per_channel: dict[str, int]
    per_campaign: dict[str, int]
    per_segment: dict[str, dict[str, int]]
    quality: QualityOut
    rules: list[RuleHitsOut] = Field(description="Every rule of the definition, in its order, with its hits.")
    never_fired: list[str] = Field(description="The ids of the rules that fired on no contact.")
    qualifications: list[QualificationOut]


class ComparisonOut(BaseModel):
    """A definition against the one in force, replayed on the same stored history."""

    start: datetime
    end: datetime
    touches: int = Field(description="Touches replayed (those before `start` included).")
    seconds: float = Field(description="How long loading and replaying took.")
    draft: SimulationOut
    published: SimulationOut | None = Field(description="The definition in force; null before the first one.")
    newly_qualified: list[QualificationOut] = Field(description="Leads the draft qualifies and the other does not.")
    dropped: list[QualificationOut] = Field(
        description="Leads the definition in force qualifies and the draft does not."
    )


@router.post("/{definition_id}/simulate", responses=problems.responses(404))
def simulate_definition(
    definition_id: uuid.UUID, body: SimulateIn, session: SessionDep, user: Simulator
) -> ComparisonOut:
    """Replay the stored touches of a window through this definition and the one in force, and compare them."""
    # One process: forking a server that runs consumer threads is not safe; the CLI uses every core.
    return run_simulation(session, definition_id, body)


def run_simulation(
    session: Session,
    definition_id: uuid.UUID,
    body: SimulateIn,
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ComparisonOut:
    """The simulation behind the API and `leadflow definition simulate`: a definition against the one in force."""
    if body.end <= body.start:
        message = f"must be after start (got start {body.start.isoformat()}, end {body.end.isoformat()})"
        raise Problem(422, "Invalid window", f"end: {message}", errors=[{"field": "end", "message": message}])
    started = time.perf_counter()
    try:
        row = commands.get_definition(session, definition_id)
    except commands.DefinitionNotFound as error:
        raise Problem(404, "Not found", str(error)) from None
    in_force = commands.published_definition(session)
    definitions = [_definition(session, row)]
    if in_force is not None and in_force.id != row.id:
        definitions.append(_definition(session, in_force))
    with paused_collection():  # until the history is dropped: see paused_collection
        history = load_history(session, end=body.end)
        segments = (body.segment,) if body.segment else DEFAULT_SEGMENTS
        results = [
            simulate(
                definition,
                history,
                start=body.start,
                end=body.end,
                segments=segments,
                workers=workers,
                progress=progress,
            )
            for definition in definitions
        ]
        outcomes = history.outcomes()
        del history
    draft = results[0]
    published = None if in_force is None else results[-1]
    comparison = compare(published, draft, outcomes)
    return ComparisonOut(
        start=body.start,
        end=body.end,
        touches=draft.touches,
        seconds=round(time.perf_counter() - started, 3),
        draft=_simulation_out(row, draft, comparison.draft),
        published=_simulation_out(in_force, published, comparison.published)
        if in_force and published and comparison.published
        else None,
        newly_qualified=[_qualification_out(q) for q in comparison.newly_qualified],
        dropped=[_qualification_out(q) for q in comparison.dropped],
    )


def _definition(session: Session, row: LeadDefinitionVersion) -> LeadDefinition:
    if row.version is not None:
        return repository.definition_of_version(session, row.version)
    try:
        return parse_definition(row.document)
    except DefinitionError as error:  # stored drafts are validated; this guards against older documents
        raise Problem(422, "Invalid lead definition", error.errors[0]) from None


def _simulation_out(row: LeadDefinitionVersion, result: SimulationResult, quality: DefinitionQuality) -> SimulationOut:
    return SimulationOut(
        definition_id=row.id,
        name=result.definition_name,
        status=row.status,
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
