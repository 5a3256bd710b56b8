"""The queue's query: filters, a sort and keyset cursor pages over what the caller sees. No commits."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select, tuple_
from sqlalchemy.orm import Session

from events.limits import LATEST
from services.handoff.access import Viewer
from services.handoff.models import HandoffRecord
from services.handoff.queue.schemas import SlaState

H = HandoffRecord


class BadCursor(ValueError):  # noqa: N818 - an outcome the API answers with 422
    """A cursor this query did not make."""


@dataclass(frozen=True)
class QueueQuery:
    """What the caller asked of the queue."""

    status: str | None = None
    sla_state: str | None = None
    fit_grade: str | None = None
    account_id: uuid.UUID | None = None
    rep_id: uuid.UUID | None = None
    sort: str = "sla_due"
    cursor: str | None = None
    limit: int = 50


def sla_condition(state: str, now: datetime) -> ColumnElement[bool]:
    """Handoffs whose SLA is in `state` at `now`."""
    assigned = H.status == "assigned"
    breached = or_(H.breached, H.due_at <= now)
    if state == "none":
        return not_(assigned)
    if state == "breached":
        return and_(assigned, breached)
    warning = and_(H.warn_at.is_not(None), H.warn_at <= now)
    if state == "warning":
        return and_(assigned, not_(breached), warning)
    return and_(assigned, not_(breached), not_(warning))


def sla_state(row: HandoffRecord, now: datetime) -> SlaState:
    """The SLA state of one handoff at `now`, as sla_condition selects it."""
    if row.status != "assigned" or row.due_at is None:
        return "none"
    if row.breached or row.due_at <= now:
        return "breached"
    return "warning" if row.warn_at is not None and row.warn_at <= now else "on_track"


def page(session: Session, viewer: Viewer, query: QueueQuery, now: datetime) -> tuple[list[HandoffRecord], str | None]:
    """One page of the queue and the cursor of the next (None on the last page)."""
    filters: list[ColumnElement[bool]] = [viewer.visible()]
    if query.status:
        filters.append(H.status == query.status)
    if query.sla_state:
        filters.append(sla_condition(query.sla_state, now))
    if query.fit_grade:
        filters.append(H.fit_grade == query.fit_grade)
    if query.account_id:
        filters.append(H.account_id == query.account_id)
    if query.rep_id:
        filters.append(H.rep_id == query.rep_id)
    key, ascending = _key(query.sort)
    if query.cursor:
        value, last_id = _decode(query.cursor, query.sort)
        after = tuple_(key, H.id) > tuple_(value, last_id) if ascending else tuple_(key, H.id) < tuple_(value, last_id)
        filters.append(after)
    order = (key.asc(), H.id.asc()) if ascending else (key.desc(), H.id.desc())
    rows = list(session.scalars(select(H).where(*filters).order_by(*order).limit(query.limit + 1)))
    if len(rows) <= query.limit:
        return rows, None
    rows = rows[: query.limit]
    return rows, _encode(query.sort, rows[-1])


def _key(sort: str) -> tuple[Any, bool]:
    if sort == "score":
        return H.score, False
    if sort == "created":
        return H.created_at, False
    return func.coalesce(H.due_at, LATEST), True  # no deadline: after every deadline


def _encode(sort: str, row: HandoffRecord) -> str:
    value: Any = row.score if sort == "score" else (row.created_at if sort == "created" else row.due_at or LATEST)
    plain = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([sort, plain, str(row.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
    try:
        made_for, value, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if made_for != sort:
            raise BadCursor(f"the cursor is of a page sorted by {made_for}, not {sort}")
        parsed = float(value) if sort == "score" else datetime.fromisoformat(value)
        return parsed, uuid.UUID(last_id)
    except BadCursor:
        raise
    except (ValueError, TypeError) as error:
        raise BadCursor(f"not a cursor of this queue ({type(error).__name__})") from None
