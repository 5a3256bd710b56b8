"""The nurture reporting API: a lead's enrollments with their history and next step, and a track's figures."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from auth.tokens import Principal
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import SessionDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem
from services.nurture.enrollment.models import NurtureEnrollment, NurtureStepRun
from services.nurture.reporting import repository
from services.nurture.reporting.schemas import (
    EnrollmentList,
    EnrollmentOut,
    NextStep,
    StepFigures,
    StepRunOut,
    TrackStats,
)
from services.nurture.reporting.stats import figures

router = APIRouter(prefix="/v1/nurture", tags=["nurture"], route_class=LimitedRoute)

Reader = Annotated[Principal, Depends(require_role("marketing_ops", "sales_ops", "manager"))]
TrackKeyPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]*$", max_length=200, description="The track's key.")]


@router.get("/enrollments", responses=problems.responses(422))
def list_enrollments(
    session: SessionDep,
    user: Reader,
    lead_id: Annotated[uuid.UUID | None, Query(description="The lead (equal to the contact id).")] = None,
    email: Annotated[str | None, Query(min_length=3, max_length=320, description="The contact's email.")] = None,
) -> EnrollmentList:
    """A lead's enrollments (by lead id or email), newest first, each with its step history and next step due."""
    if lead_id is None and email is None:
        message = "give `lead_id` or `email`"
        raise Problem(422, "Invalid query", message, errors=[{"field": "lead_id", "message": message}])
    contacts = repository.contact_ids(session, lead_id=lead_id, email=email)
    found = repository.enrollments(session, contacts)
    steps = repository.step_ids(session, {(row.track_key, row.track_version) for row, _, _ in found})
    return EnrollmentList(
        items=[_enrollment(*item, steps.get((item[0].track_key, item[0].track_version), [])) for item in found]
    )


@router.get("/tracks/{key}/stats", responses=problems.responses(404))
def track_stats(key: TrackKeyPath, session: SessionDep, user: Reader) -> TrackStats:
    """A track's figures: enrolled, active, exits by reason, qualification after nurture, engagement per step."""
    enrollments, steps = repository.track_facts(session, key)
    if not enrollments:
        raise Problem(404, "Not found", f"track `{key}` has no enrollments (or no such track)")
    result = figures(enrollments, steps)
    return TrackStats(
        track_key=key,
        enrolled=result.enrolled,
        active=result.active,
        exited=result.exited,
        qualified_after_nurture=result.qualified_after_nurture,
        share_qualified=result.share_qualified,
        median_days_to_mql=result.median_days_to_mql,
        steps=[StepFigures(**asdict(step), engagement_rate=step.engagement_rate) for step in result.steps],
    )


def _enrollment(
    row: NurtureEnrollment, email: str | None, runs: list[NurtureStepRun], step_ids: list[str]
) -> EnrollmentOut:
    next_step = None
    if row.step is not None and row.next_due_at is not None:
        step_id = step_ids[row.step - 1] if row.step <= len(step_ids) else None
        next_step = NextStep(step=row.step, step_id=step_id, waiting_for=row.phase or "action", due_at=row.next_due_at)
    return EnrollmentOut(
        enrollment_id=row.id,
        lead_id=row.contact_id,
        contact_id=row.contact_id,
        email=email,
        track_key=row.track_key,
        track_version=row.track_version,
        entry_reason=row.entry_reason,
        status=row.status,
        exit_reason=row.exit_reason,
        enrolled_at=row.enrolled_at,
        exited_at=row.exited_at,
        steps_sent=row.steps_sent,
        next_step=next_step,
        history=[StepRunOut.model_validate(run, from_attributes=True) for run in runs],
    )
