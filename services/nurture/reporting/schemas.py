"""Answers of the nurture reporting API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class StepRunOut(BaseModel):
    """One step that came due: what became of it."""

    step: int = Field(description="The step's number in the track, from 1.")
    step_id: str = Field(description="The step's id in the track.")
    outcome: str = Field(description="sent, skipped, deferred, branched (no engagement: the alternate path), withheld.")
    channel: str | None = Field(description="The action's channel, for sent and deferred steps.")
    content_id: str | None = Field(description="The content requested, for sent steps.")
    action_id: uuid.UUID | None = Field(description="The action's id (marketing automation's idempotency key).")
    due_at: datetime = Field(description="When the step's timer was due.")
    at: datetime = Field(description="When it fired.")
    deferred_until: datetime | None = Field(description="For a deferred step: when it is due again.")
    detail: str | None = Field(description="Why it was skipped, deferred or withheld.")
    engaged_at: datetime | None = Field(description="When the contact engaged with this step's content, if they did.")


class NextStep(BaseModel):
    """The step an active enrollment waits for."""

    step: int = Field(description="The step's number, from 1.")
    step_id: str | None = Field(description="The step's id in the track.")
    waiting_for: str = Field(description="action: its action is due; branch: the engagement window closes.")
    due_at: datetime = Field(description="When.")


class EnrollmentOut(BaseModel):
    """A lead in a track: where it stands, or why it left, with its step history."""

    enrollment_id: uuid.UUID
    lead_id: uuid.UUID
    contact_id: uuid.UUID
    email: str | None = Field(description="The contact's email, as nurture knows it (null once erased).")
    track_key: str
    track_version: int
    entry_reason: str
    status: str = Field(description="active or exited.")
    exit_reason: str | None
    enrolled_at: datetime
    exited_at: datetime | None
    steps_sent: int
    next_step: NextStep | None = Field(description="The step awaited; null once exited.")
    history: list[StepRunOut] = Field(description="Every step that came due, oldest first.")


class EnrollmentList(BaseModel):
    """The enrollments of a lead, newest first."""

    items: list[EnrollmentOut]


class StepFigures(BaseModel):
    """How one step did."""

    step: int
    step_id: str
    sent: int
    engaged: int
    skipped: int
    deferred: int
    engagement_rate: float | None = Field(description="Engaged over sent; null while nothing was sent.")


class TrackStats(BaseModel):
    """A track's figures over every version."""

    track_key: str
    enrolled: int
    active: int
    exited: dict[str, int] = Field(description="Exits by reason.")
    qualified_after_nurture: int = Field(description="Enrollments whose lead qualified after entering.")
    share_qualified: float | None = Field(description="qualified_after_nurture over enrolled.")
    median_days_to_mql: float | None = Field(description="Median days from entering to qualifying.")
    steps: list[StepFigures]
