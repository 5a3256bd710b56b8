"""The SLA's durable timers of a handoff: a warning, a deadline, and a retry of routing while it is unrouted."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from eventlog.unit_of_work import UnitOfWork
from services.handoff.sla.domain import SlaClock
from timers.schedule import cancel, schedule

OWNER = "handoff"
WARNING, DEADLINE, REROUTE = "sla_warning", "sla_deadline", "reroute"
# An unrouted handoff is routed again this often, until someone eligible takes it.
REROUTE_EVERY = timedelta(minutes=10)


def key(handoff_id: uuid.UUID, kind: str) -> str:
    """The timer key of one of a handoff's timers."""
    return f"{handoff_id}:{kind}"


def start_clock(uow: UnitOfWork, handoff_id: uuid.UUID, clock: SlaClock) -> None:
    """Set (or move) the warning and the deadline of a new assignment; no retry of routing is needed now."""
    payload = {"handoff_id": str(handoff_id), "due_at": clock.due_at.isoformat()}
    schedule(uow, owner=OWNER, kind=WARNING, key=key(handoff_id, WARNING), due_at=clock.warn_at, payload=payload)
    schedule(uow, owner=OWNER, kind=DEADLINE, key=key(handoff_id, DEADLINE), due_at=clock.due_at, payload=payload)
    cancel(uow, owner=OWNER, key=key(handoff_id, REROUTE))


def stop_clock(uow: UnitOfWork, handoff_id: uuid.UUID) -> None:
    """The rep answered, or the handoff left them: no warning, no deadline."""
    cancel(uow, owner=OWNER, key=key(handoff_id, WARNING))
    cancel(uow, owner=OWNER, key=key(handoff_id, DEADLINE))


def retry_routing(uow: UnitOfWork, handoff_id: uuid.UUID, after: datetime) -> None:
    """Route an unrouted handoff again at `after` + REROUTE_EVERY."""
    stop_clock(uow, handoff_id)
    payload = {"handoff_id": str(handoff_id)}
    due = after + REROUTE_EVERY
    schedule(uow, owner=OWNER, kind=REROUTE, key=key(handoff_id, REROUTE), due_at=due, payload=payload)
