"""Giving a handoff to a rep: route it (or take a manager's pick), start the rep's SLA clock, record the decision,
save and emit. One function serves a new qualified lead, a breached SLA, a retry of the unrouted queue and a
manager's reassignment.

`Routing` holds one unit of work's view of the org in force, the reps' loads and the pools' pointers; a batch of
leads routes against it in memory (each handoff counted as it is given), and `finish` writes the decisions, the
assignments and the pointers once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from eventlog.unit_of_work import UnitOfWork
from services.handoff import repository
from services.handoff.commands import Assign, Reassign, ReturnToQueue
from services.handoff.domain import decide
from services.handoff.models import Assignment, HandoffRecord, RoutingDecisionRecord
from services.handoff.org.domain import CurrentOrg
from services.handoff.org.repository import current_org
from services.handoff.outbox import emit
from services.handoff.pending import PendingRows
from services.handoff.routing.domain import RoutingDecision, route
from services.handoff.routing.lead import lead_from_dossier
from services.handoff.routing.model import AccountOwner, RepLoad
from services.handoff.sla import timers
from services.handoff.sla.domain import sla_clock
from services.handoff.sla.terms import HandoffTerms

Trigger = Literal["qualified", "sla_breached", "reroute", "manager"]


@dataclass
class Routing:
    """The org in force, each rep's load and the pools' pointers, as one unit of work sees and changes them."""

    current: CurrentOrg | None
    loads: dict[uuid.UUID, RepLoad]
    pointers: dict[str, dict[uuid.UUID, float]]
    changed: dict[str, dict[uuid.UUID, float]] = field(default_factory=dict)
    clocks: timers.Clocks = field(default_factory=timers.Clocks)
    # The decisions and assignments made, and whatever new rows the caller adds: inserted together by `finish`.
    rows: PendingRows = field(default_factory=PendingRows)

    @classmethod
    def begin(cls, session: Session, now: datetime) -> Routing:
        """Load the org, the loads and the pointers (locked on PostgreSQL until the unit of work ends)."""
        current = current_org(session)
        if current is None:
            return cls(None, {}, {})
        return cls(current, repository.loads(session, current.org, now), repository.pointers(session))

    def decide(self, row: HandoffRecord, owner: AccountOwner | None, now: datetime) -> RoutingDecision | None:
        """Route a handoff's lead (None without an org); the pools' pointers move in memory."""
        if self.current is None:
            return None
        lead = lead_from_dossier(row.lead_id, row.dossier, owner)
        exclude = frozenset(uuid.UUID(rep) for rep in row.excluded_reps)
        decision = route(lead, self.current.org, self.loads, self.pointers, now, exclude)
        if decision.pool is not None:
            pool = dict(decision.pointers[decision.pool])
            self.pointers[decision.pool] = self.changed[decision.pool] = pool
        return decision

    def took(self, rep_id: uuid.UUID) -> None:
        """A rep was given a handoff: one more open and one more today."""
        load = self.loads.get(rep_id, RepLoad())
        self.loads[rep_id] = RepLoad(load.open_unaccepted + 1, load.assigned_today + 1)

    def released(self, rep_id: uuid.UUID) -> None:
        """A handoff left a rep unanswered: one fewer open."""
        load = self.loads.get(rep_id, RepLoad())
        self.loads[rep_id] = RepLoad(max(0, load.open_unaccepted - 1), load.assigned_today)

    def finish(self, uow: UnitOfWork) -> None:
        """Write the new rows, the pointers of the pools that moved, and the SLA timers set or cancelled."""
        self.rows.write(uow.session)
        repository.save_pointers(uow.session, self.changed)
        self.changed = {}
        self.clocks.write(uow)


def account_owner(routing: Routing | None, held: uuid.UUID | None, domain: str | None) -> AccountOwner | None:
    """The account's holder (the rep of its open or accepted handoff), else its CRM owner, if any."""
    if held is not None:
        return AccountOwner(held, "earlier_handoff")
    current = routing.current if routing else None
    if current is not None and domain and (owner := current.owner_of_domain(domain)) is not None:
        return AccountOwner(owner, "crm")
    return None


def give(
    uow: UnitOfWork,
    routing: Routing,
    row: HandoffRecord,
    terms: HandoffTerms,
    now: datetime,
    *,
    trigger: Trigger,
    owner: AccountOwner | None = None,
    pick: uuid.UUID | None = None,
    by: str | None = None,
) -> uuid.UUID | None:
    """Route the handoff (or give it to `pick`, a manager's choice) and assign it; the rep, or None: unrouted."""
    state = repository.state_of(row)
    rep_id: uuid.UUID | None
    if pick is not None:
        decision_json = _manual(routing, pick, by)
        rep_id, rule = pick, "manager_override"
    else:
        decision = routing.decide(row, owner, now)
        decision_json = _describe(routing, decision)
        rep_id = decision.rep_id if decision is not None else None
        rule = decision.routing_rule if decision is not None else "unrouted"
    routing.rows.insert(
        RoutingDecisionRecord,
        {
            "handoff_id": row.id,
            "decided_at": now,
            "trigger": trigger,
            "org_version": routing.current.version if routing.current else None,
            "rep_id": rep_id,
            "decision": decision_json,
        },
    )
    if rep_id is None or routing.current is None:
        if state.status == "assigned":
            _to_queue(uow, routing, row, now, "nobody_eligible" if trigger == "sla_breached" else trigger)
        routing.clocks.retry(row.id, now)
        return None
    rep = routing.current.org.by_id[rep_id]
    clock = sla_clock(now, terms.accept_within_hours, routing.current.org.calendars[rep.calendar], terms.warn_share)
    previous = state.rep_id
    if state.status == "unrouted":
        command: Assign | Reassign = Assign(rep_id, clock.due_at, rule)
    else:
        reason = {"manager": "manager_override", "sla_breached": "sla_breached"}.get(trigger, "rep_unavailable")
        command = Reassign(rep_id, clock.due_at, reason, by)
    transition = decide(state, command, now)
    repository.apply_state(row, transition.state)
    row.warn_at, row.escalated_to, row.updated_at = clock.warn_at, None, now
    routing.rows.insert(
        Assignment,
        {
            "handoff_id": row.id,
            "rep_id": rep_id,
            "assigned_at": now,
            "local_day": repository.local_day(routing.current.org, rep_id, now),
        },
    )
    if previous is not None:
        routing.released(previous)
    routing.took(rep_id)
    routing.clocks.start(row.id, clock, from_queue=trigger != "qualified")
    for fact in transition.events:
        emit(uow, row, fact, warn_at=clock.warn_at)
    return rep_id


def _to_queue(uow: UnitOfWork, routing: Routing, row: HandoffRecord, now: datetime, reason: str) -> None:
    state = repository.state_of(row)
    transition = decide(state, ReturnToQueue(reason), now)
    if state.rep_id is not None:
        routing.released(state.rep_id)
    repository.apply_state(row, transition.state)
    row.escalated_to, row.updated_at = None, now
    for fact in transition.events:
        emit(uow, row, fact)


def _rep(routing: Routing, rep_id: uuid.UUID | None) -> dict[str, Any] | None:
    if rep_id is None:
        return None
    profile = routing.current.reps.get(rep_id) if routing.current else None
    if profile is None:
        return {"rep_id": str(rep_id)}
    return {"rep_id": str(rep_id), "email": profile.email, "name": profile.name, "team": profile.team}


def _describe(routing: Routing, decision: RoutingDecision | None) -> dict[str, Any]:
    """A decision as GET /v1/handoffs/{id}/routing shows it."""
    if decision is None:
        return {"method": "unrouted", "why": "no routing configuration is saved yet", "rep": None}
    return {
        "method": decision.method,
        "routing_rule": decision.routing_rule,
        "why": decision.why,
        "rep": _rep(routing, decision.rep_id),
        "rules_tried": [
            {"number": rule.number, "name": rule.name, "matched": rule.matched} for rule in decision.rules_tried
        ],
        "candidates": [
            {
                **(_rep(routing, candidate.rep_id) or {}),
                "step": candidate.step,
                "skipped": candidate.skipped,
                "pointer": candidate.pointer,
            }
            for candidate in decision.candidates
        ],
        "pool": decision.pool,
        "notes": list(decision.notes),
    }


def _manual(routing: Routing, rep_id: uuid.UUID, by: str | None) -> dict[str, Any]:
    return {
        "method": "manager",
        "routing_rule": "manager_override",
        "why": f"reassigned by {by}",
        "rep": _rep(routing, rep_id),
        "rules_tried": [],
        "candidates": [],
        "pool": None,
        "notes": [],
    }
