"""Request and answer bodies of the simulation API: the window asked for, the job, and the comparison it gives."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.lead_scoring.definitions.conditions import FIELD_PATTERN
from services.lead_scoring.models import SimulationJob
from services.lead_scoring.schemas import SaneTime


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


JobStatus = Literal["pending", "running", "done", "failed"]
Phase = Literal["loading", "replaying", "comparing"]


class SimulationJobOut(BaseModel):
    """A simulation asked for: where it stands, and its result once done."""

    id: uuid.UUID
    definition_id: uuid.UUID
    status: JobStatus = Field(description="pending, running, done or failed (then `error` says why).")
    phase: Phase | None = Field(description="While running: loading the history, replaying it, or comparing.")
    done: int = Field(description="Touches replayed so far, over every definition simulated.")
    total: int = Field(description="Touches to replay (0 until the history is loaded).")
    start: datetime
    end: datetime
    segment: str | None
    requested_by: str
    attempts: int = Field(description="Times a runner took it (more than 1: a runner stopped and another went on).")
    error: str | None = Field(description="Why a failed simulation failed.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: ComparisonOut | None = Field(
        description="The comparison, once done; the list of a definition's simulations leaves it out."
    )

    @classmethod
    def of(cls, job: SimulationJob, *, with_result: bool = True) -> SimulationJobOut:
        """From the table row; the result as it was kept."""
        return cls(
            id=job.id,
            definition_id=job.definition_id,
            status=job.status,
            phase=job.phase,
            done=job.done,
            total=job.total,
            start=job.window_start,
            end=job.window_end,
            segment=job.segment,
            requested_by=job.requested_by,
            attempts=job.attempts,
            error=job.error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            result=ComparisonOut.model_validate(job.result) if with_result and job.result is not None else None,
        )
