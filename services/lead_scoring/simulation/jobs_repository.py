"""Queries of simulation jobs: asked for by the API, claimed and reported on by the runner. No commits here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from services.lead_scoring.models import SimulationJob


def add_job(session: Session, *, job: SimulationJob) -> None:
    """Store a new job (flushed: its row exists in the transaction from here on)."""
    session.add(job)
    session.flush()


def job_of_definition(session: Session, *, definition_id: uuid.UUID, job_id: uuid.UUID) -> SimulationJob | None:
    """A job of this definition, or None (also when the job is another definition's)."""
    job = session.get(SimulationJob, job_id)
    return job if job is not None and job.definition_id == definition_id else None


def jobs_of_definition(session: Session, *, definition_id: uuid.UUID) -> list[SimulationJob]:
    """A definition's simulations, newest first."""
    query = (
        select(SimulationJob)
        .where(SimulationJob.definition_id == definition_id)
        .order_by(SimulationJob.created_at.desc(), SimulationJob.id)
    )
    return list(session.scalars(query))


def next_claimable(session: Session, *, now: datetime) -> SimulationJob | None:
    """The oldest job pending, or running under a lease that has passed (its runner died), locked; skips locked ones."""
    query = (
        select(SimulationJob)
        .where(
            or_(
                SimulationJob.status == "pending",
                and_(SimulationJob.status == "running", SimulationJob.lease_until < now),
            )
        )
        .order_by(SimulationJob.created_at, SimulationJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalar(query)


def report_progress(
    session: Session, *, job_id: uuid.UUID, attempt: int, lease_until: datetime, **progress: Any
) -> bool:
    """Write a running job's progress and renew its lease; False when the job is no longer this attempt's."""
    statement = (
        update(SimulationJob)
        .where(SimulationJob.id == job_id, SimulationJob.attempts == attempt, SimulationJob.status == "running")
        .values(lease_until=lease_until, **progress)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def claimed_job(session: Session, *, job_id: uuid.UUID, attempt: int) -> SimulationJob | None:
    """The job, locked, if it is still running under this attempt (a runner that lost its lease finds None)."""
    query = (
        select(SimulationJob)
        .where(SimulationJob.id == job_id, SimulationJob.attempts == attempt, SimulationJob.status == "running")
        .with_for_update()
    )
    return session.scalar(query)
