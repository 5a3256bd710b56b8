"""Queries of handoffs, the mapping between a handoff's row and the state machine's state, and what routing
loads and saves (each rep's load, the pools' round-robin pointers). No commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from database.queries import among, rows
from services.handoff.domain import HandoffState, Opportunity, Status
from services.handoff.models import Assignment, HandoffRecord, PoolPointer, RoutingDecisionRecord
from services.handoff.routing.model import RepLoad, SalesOrg

OPEN: tuple[Status, ...] = ("unrouted", "assigned", "accepted", "converted")
# A handoff whose account is held by a rep: the next handoff of the account goes to the same rep.
HELD: tuple[Status, ...] = ("assigned", "accepted", "converted", "closed_won")


def get(session: Session, handoff_id: uuid.UUID, *, for_update: bool = False) -> HandoffRecord | None:
    """A handoff by id; locked for the transaction when `for_update` (PostgreSQL)."""
    query = select(HandoffRecord).where(HandoffRecord.id == handoff_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def open_by_lead(session: Session, lead_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, HandoffRecord]:
    """The open handoff of each lead that has one."""
    if not lead_ids:
        return {}
    rows = session.scalars(select(HandoffRecord).where(among(session, HandoffRecord.open_lead_id, list(lead_ids))))
    return {row.lead_id: row for row in rows}


def account_reps(session: Session, account_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The rep holding each account: the rep of its most recent assigned, accepted, converted or won handoff."""
    if not account_ids:
        return {}
    query = (
        select(HandoffRecord.account_id, HandoffRecord.rep_id)
        .where(among(session, HandoffRecord.account_id, list(account_ids)), HandoffRecord.status.in_(HELD))
        .order_by(HandoffRecord.updated_at)
    )
    held: dict[uuid.UUID, uuid.UUID] = {}
    for account_id, rep_id in session.execute(query):
        if account_id is not None and rep_id is not None:
            held[account_id] = rep_id  # the latest wins
    return held


def decisions(session: Session, handoff_id: uuid.UUID) -> list[RoutingDecisionRecord]:
    """Every routing decision of a handoff, oldest first."""
    query = select(RoutingDecisionRecord).where(RoutingDecisionRecord.handoff_id == handoff_id)
    return list(session.scalars(query.order_by(RoutingDecisionRecord.id)))


def state_of(row: HandoffRecord) -> HandoffState:
    """The state machine's view of a handoff row."""
    opportunity = row.opportunity
    outcome = row.outcome or {}
    return HandoffState(
        handoff_id=row.id,
        lead_id=row.lead_id,
        status=row.status,  # type: ignore[arg-type]  # written from a Status only
        version=row.version,
        rep_id=row.rep_id,
        assigned_at=row.assigned_at,
        due_at=row.due_at,
        breached=row.breached,
        breach_count=row.breach_count,
        accepted_at=row.accepted_at,
        rejection_reason=row.rejection_reason,
        opportunity=None if opportunity is None else _opportunity(opportunity),
        lost_reason=outcome.get("lost_reason"),
        closed_amount=Decimal(outcome["amount"]) if outcome.get("amount") is not None else None,
        closed_at=row.closed_at,
    )


def apply_state(row: HandoffRecord, state: HandoffState) -> None:
    """Write a state onto its row (the version included: the mapper refuses a row changed meanwhile)."""
    row.status, row.version, row.rep_id = state.status, state.version, state.rep_id
    row.assigned_at, row.due_at, row.breached = state.assigned_at, state.due_at, state.breached
    row.breach_count, row.accepted_at, row.rejection_reason = (
        state.breach_count,
        state.accepted_at,
        state.rejection_reason,
    )
    row.closed_at = state.closed_at
    row.open_lead_id = row.lead_id if state.status in OPEN else None
    if state.status != "assigned":
        row.warn_at = None  # the warning only means something while the rep has yet to answer
    if state.opportunity is not None:
        row.opportunity = _opportunity_json(state.opportunity)
    if state.status in ("closed_won", "closed_lost"):
        row.outcome = {
            "outcome": "won" if state.status == "closed_won" else "lost",
            "amount": str(state.closed_amount) if state.closed_amount is not None else None,
            "lost_reason": state.lost_reason,
        }


def _opportunity(data: dict[str, Any]) -> Opportunity:
    close = data.get("expected_close_date")
    return Opportunity(
        opportunity_id=uuid.UUID(data["opportunity_id"]),
        name=data["name"],
        amount=Decimal(data["amount"]) if data.get("amount") is not None else None,
        currency=data.get("currency"),
        expected_close_date=date.fromisoformat(close) if close else None,
    )


def _opportunity_json(opportunity: Opportunity) -> dict[str, Any]:
    return {
        "opportunity_id": str(opportunity.opportunity_id),
        "name": opportunity.name,
        "amount": str(opportunity.amount) if opportunity.amount is not None else None,
        "currency": opportunity.currency,
        "expected_close_date": opportunity.expected_close_date.isoformat() if opportunity.expected_close_date else None,
    }


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
