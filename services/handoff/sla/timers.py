"""The SLA's durable timers of a handoff: a warning, a deadline, and a retry of routing while it is unrouted.

A unit of work gathers its timer changes in `Clocks` and writes them at its end in two statements, however
many handoffs a batch assigns: a handoff's own timers change at most once per unit of work that way too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from eventlog.unit_of_work import UnitOfWork
from services.handoff.sla.domain import SlaClock
from timers.schedule import Due, cancel_many, schedule_many

OWNER = "handoff"
WARNING, DEADLINE, REROUTE = "sla_warning", "sla_deadline", "reroute"
# An unrouted handoff is routed again this often, until someone eligible takes it.
REROUTE_EVERY = timedelta(minutes=10)


def key(handoff_id: uuid.UUID, kind: str) -> str:
    """The timer key of one of a handoff's timers."""
    return f"{handoff_id}:{kind}"


@dataclass
class Clocks:
    """The timers a unit of work sets (a Due) or cancels (None), by key; the last change of a key wins."""

    changes: dict[str, Due | None] = field(default_factory=dict)

    def start(self, handoff_id: uuid.UUID, clock: SlaClock, *, from_queue: bool = False) -> None:
        """The warning and the deadline of a new assignment; a retry of routing is cancelled if one may wait."""
        payload = {"handoff_id": str(handoff_id), "due_at": clock.due_at.isoformat()}
        for kind, due in ((WARNING, clock.warn_at), (DEADLINE, clock.due_at)):
            self.changes[key(handoff_id, kind)] = Due(OWNER, kind, key(handoff_id, kind), due, payload)
        if from_queue:
            self.changes[key(handoff_id, REROUTE)] = None

    def stop(self, handoff_id: uuid.UUID) -> None:
        """The rep answered, or the handoff left them: no warning, no deadline."""
        self.changes[key(handoff_id, WARNING)] = self.changes[key(handoff_id, DEADLINE)] = None

    def retry(self, handoff_id: uuid.UUID, after: datetime) -> None:
        """No clock; route the unrouted handoff again at `after` + REROUTE_EVERY."""
        self.stop(handoff_id)
        payload = {"handoff_id": str(handoff_id)}
        self.changes[key(handoff_id, REROUTE)] = Due(
            OWNER, REROUTE, key(handoff_id, REROUTE), after + REROUTE_EVERY, payload
        )

    def write(self, uow: UnitOfWork) -> None:
        """Write the changes: the cancellations, then the timers set."""
        cancel_many(uow, owner=OWNER, keys=[name for name, due in self.changes.items() if due is None])
        schedule_many(uow, [due for due in self.changes.values() if due is not None])
        self.changes = {}


def stop_clock(uow: UnitOfWork, handoff_id: uuid.UUID) -> None:
    """Cancel a handoff's warning and deadline now."""
    clocks = Clocks()
    clocks.stop(handoff_id)
    clocks.write(uow)
