"""Queries of the reporting API; no commits."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.nurture.contacts.models import NurtureContact
from services.nurture.enrollment.models import NurtureEnrollment, NurtureStepRun
from services.nurture.reporting.stats import EnrollmentFacts, StepFacts
from services.nurture.tracks.models import TrackVersion

MAX_ENROLLMENTS = 100


def contact_ids(session: Session, *, lead_id: uuid.UUID | None, email: str | None) -> list[uuid.UUID]:
    """The contacts named by lead id and/or email (compared lower-cased)."""
    query = select(NurtureContact.contact_id)
    if lead_id is not None:
        query = query.where(NurtureContact.contact_id == lead_id)
    if email is not None:
        query = query.where(NurtureContact.email == email.strip().lower())
    return list(session.scalars(query.limit(MAX_ENROLLMENTS)))


def enrollments(
    session: Session, contacts: list[uuid.UUID]
) -> list[tuple[NurtureEnrollment, str | None, list[NurtureStepRun]]]:
    """The contacts' enrollments, newest first, each with the contact's email and its step history."""
    if not contacts:
        return []
    found = session.execute(
        select(NurtureEnrollment, NurtureContact.email)
        .join(NurtureContact, NurtureContact.contact_id == NurtureEnrollment.contact_id)
        .where(NurtureEnrollment.contact_id.in_(contacts))
        .order_by(NurtureEnrollment.enrolled_at.desc(), NurtureEnrollment.id)
        .limit(MAX_ENROLLMENTS)
    ).all()
    ids = [row.id for row, _ in found]
    runs: dict[uuid.UUID, list[NurtureStepRun]] = defaultdict(list)
    if ids:
        query = select(NurtureStepRun).where(NurtureStepRun.enrollment_id.in_(ids)).order_by(NurtureStepRun.id)
        for run in session.scalars(query):
            runs[run.enrollment_id].append(run)
    return [(row, email, runs[row.id]) for row, email in found]


def step_ids(session: Session, versions: set[tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
    """The step ids of each track version named, in order (step n is item n - 1)."""
    found: dict[tuple[str, int], list[str]] = {}
    for key, version in sorted(versions):
        row = session.get(TrackVersion, (key, version))
        if row is not None:
            found[(key, version)] = [str(step.get("id", "")) for step in row.document.get("steps", [])]
    return found


def track_facts(session: Session, track_key: str) -> tuple[list[EnrollmentFacts], list[StepFacts]]:
    """What the figures of a track need: its enrollments (with their contact's qualification) and step runs."""
    enrollments = [
        EnrollmentFacts(status, exit_reason, enrolled_at, mql_at)
        for status, exit_reason, enrolled_at, mql_at in session.execute(
            select(
                NurtureEnrollment.status,
                NurtureEnrollment.exit_reason,
                NurtureEnrollment.enrolled_at,
                NurtureContact.mql_at,
            )
            .join(NurtureContact, NurtureContact.contact_id == NurtureEnrollment.contact_id)
            .where(NurtureEnrollment.track_key == track_key)
        )
    ]
    steps = [
        StepFacts(step, step_id, outcome, engaged_at is not None)
        for step, step_id, outcome, engaged_at in session.execute(
            select(NurtureStepRun.step, NurtureStepRun.step_id, NurtureStepRun.outcome, NurtureStepRun.engaged_at)
            .join(NurtureEnrollment, NurtureEnrollment.id == NurtureStepRun.enrollment_id)
            .where(NurtureEnrollment.track_key == track_key)
        )
    ]
    return enrollments, steps
