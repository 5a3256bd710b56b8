"""Queries of handoffs, and the mapping between a handoff's row and the state machine's state. No commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.queries import among
from services.handoff.domain import HandoffState, Opportunity, Status
from services.handoff.models import HandoffRecord, RoutingDecisionRecord

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
