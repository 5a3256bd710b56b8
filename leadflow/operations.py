"""What operators read of the event log over HTTP: dead letters, and outbox rows the broker refused."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from auth.tokens import Principal
from eventlog.models import DeadLetter
from eventlog.relay import count_failed, failed_rows
from kernel.auth import require_role
from kernel.dependencies import SessionDep
from kernel.http_limits import LimitedRoute

router = APIRouter(tags=["operations"], route_class=LimitedRoute)

Operator = Annotated[Principal, Depends(require_role("admin"))]


@router.get("/v1/eventlog/dead-letters")
def list_dead_letters(
    session: SessionDep,
    user: Operator,
    reason: Annotated[str | None, Query(max_length=50, description="Only this reason.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Dead letters, newest first, with the count per reason (the original bytes stay in the table)."""
    query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
    if reason is not None:
        query = query.where(DeadLetter.reason == reason)
    by_reason = dict(session.execute(select(DeadLetter.reason, func.count()).group_by(DeadLetter.reason)).all())
    return {"by_reason": by_reason, "items": [row.summary() for row in session.scalars(query)]}


@router.get("/v1/eventlog/outbox/failed")
def list_failed_outbox_rows(
    session: SessionDep, user: Operator, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    """Outbox rows set aside because the broker can never take them, newest first, with why."""
    return {"count": count_failed(session), "items": [row.failure_summary() for row in failed_rows(session, limit)]}
