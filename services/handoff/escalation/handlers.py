"""The SLA's timer handlers. Each loads the handoff (locked), checks the timer still applies to the assignment it
was set for, decides, saves and emits at the timer's due time; the scheduler commits.

At the deadline the definition's policy applies: escalate to the rep's manager (without one: reassign), reassign
to the next eligible rep (the rep who let it pass is excluded; nobody eligible: the unrouted queue), or return
to the queue. An unrouted handoff is routed again every REROUTE_EVERY until someone eligible takes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from eventlog.unit_of_work import UnitOfWork
from events.catalog import HandoffSlaWarned
from services.handoff import repository
from services.handoff.assignment import Routing, account_owner, give
from services.handoff.commands import BreachSla, ReturnToQueue
from services.handoff.domain import decide
from services.handoff.models import HandoffRecord
from services.handoff.outbox import emit, emit_data
from services.handoff.projection import repository as projected
from services.handoff.routing.model import AccountOwner
from services.handoff.sla import timers
from services.handoff.sla.terms import OnBreach
from timers.scheduler import Timer, TimerHandler


def on_warning(timer: Timer, uow: UnitOfWork) -> None:
    """The warning share of the SLA passed unanswered: the rep (and webhooks) hear the deadline is near."""
    row = _assignment_of(timer, uow)
    if row is None or row.rep_id is None or row.due_at is None:
        return
    data = HandoffSlaWarned(
        handoff_id=row.id, lead_id=row.lead_id, contact_id=row.contact_id, account_id=row.account_id,
        rep_id=row.rep_id, due_at=row.due_at, definition_version=row.definition_version,
    )  # fmt: skip
    emit_data(uow, row, data, timer.due_at)


def on_deadline(timer: Timer, uow: UnitOfWork) -> None:
    """The deadline passed unanswered: handoff.sla_breached, then the definition's policy."""
    row = _assignment_of(timer, uow)
    if row is None or row.breached or row.rep_id is None:
        return
    now, rep_id = timer.due_at, row.rep_id
    terms = projected.terms(uow.session, row.definition_version)
    routing = Routing.begin(uow.session, now)
    policy: OnBreach = terms.on_breach
    manager = _manager(routing, rep_id) if policy == "escalate" else None
    if policy == "escalate" and manager is None:
        policy = "reassign"  # nobody to escalate to: the next rep gets a chance instead
    transition = decide(repository.state_of(row), BreachSla(policy, manager), now)
    repository.apply_state(row, transition.state)
    row.updated_at = now
    for fact in transition.events:
        emit(uow, row, fact)
    if policy == "escalate":
        row.escalated_to = manager
        routing.clocks.stop(row.id)
        routing.finish(uow)
        return
    row.excluded_reps = [*row.excluded_reps, str(rep_id)]
    if policy == "reassign":
        give(uow, routing, row, terms, now, trigger="sla_breached", owner=_owner(uow, routing, row))
    else:
        returned = decide(repository.state_of(row), ReturnToQueue("sla_breached"), now)
        repository.apply_state(row, returned.state)
        routing.released(rep_id)
        for fact in returned.events:
            emit(uow, row, fact)
        routing.clocks.retry(row.id, now)
    routing.finish(uow)


def on_reroute(timer: Timer, uow: UnitOfWork) -> None:
    """Route an unrouted handoff again: someone may have become available."""
    row = repository.get(uow.session, uuid.UUID(timer.payload["handoff_id"]), for_update=True)
    if row is None or row.status != "unrouted":
        return
    now = timer.due_at
    routing = Routing.begin(uow.session, now)
    terms = projected.terms(uow.session, row.definition_version)
    give(uow, routing, row, terms, now, trigger="reroute", owner=_owner(uow, routing, row))
    routing.finish(uow)


def timer_handlers() -> Mapping[tuple[str, str], TimerHandler]:
    """handoff's timer handlers, by (owner, kind)."""
    return {
        (timers.OWNER, timers.WARNING): on_warning,
        (timers.OWNER, timers.DEADLINE): on_deadline,
        (timers.OWNER, timers.REROUTE): on_reroute,
    }


def _assignment_of(timer: Timer, uow: UnitOfWork) -> HandoffRecord | None:
    """The handoff, if still assigned with the deadline the timer was set for (else the timer is stale)."""
    row = repository.get(uow.session, uuid.UUID(timer.payload["handoff_id"]), for_update=True)
    if row is None or row.status != "assigned" or row.due_at is None:
        return None
    set_for = timer.payload.get("due_at")
    return row if set_for and datetime.fromisoformat(set_for) == row.due_at else None


def _manager(routing: Routing, rep_id: uuid.UUID) -> uuid.UUID | None:
    profile = routing.current.reps.get(rep_id) if routing.current else None
    return profile.manager_id if profile is not None and profile.manager_id != rep_id else None


def _owner(uow: UnitOfWork, routing: Routing, row: HandoffRecord) -> AccountOwner | None:
    held = repository.account_reps(uow.session, [row.account_id]).get(row.account_id) if row.account_id else None
    if held == row.rep_id:
        held = None  # the rep who holds it now is the one the handoff moves away from
    email = (row.dossier.get("contact") or {}).get("email") or ""
    domain = (row.dossier.get("account") or {}).get("domain") or email.split("@")[-1] or None
    return account_owner(routing, held, domain)
