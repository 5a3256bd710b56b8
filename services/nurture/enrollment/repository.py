"""Queries of enrollments and their step history; no commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.nurture.enrollment.models import ACTIVE, EXITED, NurtureEnrollment, NurtureStepRun
from services.nurture.tracks.entry import PastEnrollment


def active(session: Session, contact_id: uuid.UUID, *, lock: bool = True) -> NurtureEnrollment | None:
    """The contact's active enrollment, if any, locked for the caller's transaction."""
    query = select(NurtureEnrollment).where(
        NurtureEnrollment.contact_id == contact_id, NurtureEnrollment.status == ACTIVE
    )
    return session.scalars(query.with_for_update() if lock else query).first()


def lock_many(session: Session, enrollment_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, NurtureEnrollment]:
    """The enrollments of those ids, locked for the caller's transaction (in id order: no deadlock between two)."""
    if not enrollment_ids:
        return {}
    query = select(NurtureEnrollment).where(NurtureEnrollment.id.in_(sorted(enrollment_ids)))
    rows = session.scalars(query.order_by(NurtureEnrollment.id).with_for_update())
    return {row.id: row for row in rows}


def past(session: Session, contact_id: uuid.UUID) -> list[PastEnrollment]:
    """The contact's ended enrollments: track and exit time, for re-entry and cooldown."""
    query = select(NurtureEnrollment.track_key, NurtureEnrollment.exited_at).where(
        NurtureEnrollment.contact_id == contact_id, NurtureEnrollment.status == EXITED
    )
    return [PastEnrollment(key, active=False, exited_at=at) for key, at in session.execute(query)]


def sends(
    session: Session, contact_ids: Collection[uuid.UUID], *, since: datetime, until: datetime, channels: Collection[str]
) -> dict[uuid.UUID, dict[str, list[datetime]]]:
    """When actions were sent to each contact in (`since`, `until`], per channel, across all tracks."""
    if not channels or not contact_ids:
        return {}
    query = select(NurtureStepRun.contact_id, NurtureStepRun.channel, NurtureStepRun.at).where(
        NurtureStepRun.contact_id.in_(sorted(contact_ids)),
        NurtureStepRun.channel.in_(sorted(channels)),
        NurtureStepRun.at > since,
        NurtureStepRun.at <= until,
        NurtureStepRun.outcome == "sent",
    )
    found: dict[uuid.UUID, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for contact_id, channel, at in session.execute(query):
        found[contact_id][channel or ""].append(at)
    return found


def engaged_contents(session: Session, contact_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """The content ids of nurture actions each contact engaged with."""
    if not contact_ids:
        return {}
    query = select(NurtureStepRun.contact_id, NurtureStepRun.content_id).where(
        NurtureStepRun.contact_id.in_(sorted(contact_ids)), NurtureStepRun.engaged_at.is_not(None)
    )
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    for contact_id, content in session.execute(query):
        if content:
            found[contact_id].add(content)
    return found


def attributable(
    session: Session, contact_id: uuid.UUID, *, content_id: str | None, campaign: str | None, before: datetime
) -> NurtureStepRun | None:
    """The latest action sent to the contact, before `before`, with that content id (or campaign as content id)
    and no engagement yet: the step a touch is attributed to."""
    ids = [value for value in (content_id, campaign) if value]
    if not ids:
        return None
    query = (
        select(NurtureStepRun)
        .where(
            NurtureStepRun.contact_id == contact_id,
            NurtureStepRun.outcome == "sent",
            NurtureStepRun.content_id.in_(ids),
            NurtureStepRun.at <= before,
            NurtureStepRun.engaged_at.is_(None),
        )
        .order_by(NurtureStepRun.at.desc(), NurtureStepRun.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def window_start(now: datetime, windows: Collection[timedelta]) -> datetime:
    """The earliest send any cap window reaching back from `now` can see."""
    return now - max(windows, default=timedelta(0))
