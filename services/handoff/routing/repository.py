"""What routing loads and saves: each rep's load, the pools' round-robin pointers, the decisions. No commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from database.queries import among, rows
from services.handoff.models import Assignment, HandoffRecord, PoolPointer
from services.handoff.routing.model import RepLoad, SalesOrg


def local_day(org: SalesOrg, rep_id: uuid.UUID, at: datetime) -> str:
    """The date in the rep's time zone at `at` (UTC when the rep is unknown), as YYYY-MM-DD."""
    rep = org.by_id.get(rep_id)
    zone = org.calendars[rep.calendar].zone if rep is not None else None
    return (at.astimezone(zone) if zone else at).date().isoformat()


def loads(session: Session, org: SalesOrg, now: datetime) -> dict[uuid.UUID, RepLoad]:
    """Each rep's open handoffs not yet accepted, and handoffs assigned on the rep's calendar day of `now`."""
    open_query = (
        select(HandoffRecord.rep_id, func.count())
        .where(HandoffRecord.status == "assigned", HandoffRecord.rep_id.is_not(None))
        .group_by(HandoffRecord.rep_id)
    )
    open_counts: dict[uuid.UUID, int] = {rep_id: count for rep_id, count in rows(session, open_query) if rep_id}
    # A local day lasts from at most 14 hours before UTC's to 12 after: two days back covers every zone.
    day_query = (
        select(Assignment.rep_id, Assignment.local_day, func.count())
        .where(Assignment.assigned_at >= now - timedelta(days=2))
        .group_by(Assignment.rep_id, Assignment.local_day)
    )
    today: dict[uuid.UUID, int] = {}
    for rep_id, day, count in rows(session, day_query):
        if day == local_day(org, rep_id, now):
            today[rep_id] = count
    return {
        rep_id: RepLoad(open_unaccepted=open_counts.get(rep_id, 0), assigned_today=today.get(rep_id, 0))
        for rep_id in {*open_counts, *today}
    }


def pointers(session: Session, teams: Collection[str] | None = None) -> dict[str, dict[uuid.UUID, float]]:
    """The pools' pointers (of `teams`, else all), locked for the transaction on PostgreSQL."""
    query = select(PoolPointer.team, PoolPointer.rep_id, PoolPointer.pointer)
    if teams is not None:
        query = query.where(among(session, PoolPointer.team, list(teams)))
    found: dict[str, dict[uuid.UUID, float]] = {}
    for team, rep_id, pointer in rows(session, query.with_for_update()):
        found.setdefault(team, {})[rep_id] = pointer
    return found


def save_pointers(session: Session, changed: Mapping[str, Mapping[uuid.UUID, float]]) -> None:
    """Replace the pointers of the pools that changed."""
    if not changed:
        return
    session.execute(delete(PoolPointer).where(among(session, PoolPointer.team, list(changed))))
    values = [
        {"team": team, "rep_id": rep_id, "pointer": pointer}
        for team, pool in changed.items()
        for rep_id, pointer in pool.items()
    ]
    if values:
        session.execute(insert(PoolPointer), values)
