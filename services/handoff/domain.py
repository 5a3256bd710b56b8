"""A handoff's life as one pure state machine: `decide(state, command, now) -> Transition(state, events)`.

    unrouted --assign--> assigned --accept--> accepted --convert--> converted --close--> closed_won | closed_lost
       ^                  |  |  \\--reject--> rejected
       \\--return_to_queue-/  \\-- reassign, breach_sla (stay assigned)

Every change bumps `version` (optimistic concurrency: the API's ETag) and emits exactly one event, a plain
description the handler turns into its catalog event. A refused command raises and changes nothing: an action
the current state does not allow raises `ActionNotAllowed` (the API's 409), a bad value `InvalidCommand` naming
the field (422). The handoff itself is created by the handler from lead.qualified, unrouted at version 1.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from services.handoff.commands import (
    Accept,
    Assign,
    BreachSla,
    Close,
    Command,
    Convert,
    Reassign,
    Reject,
    ReturnToQueue,
)
from services.handoff.facts import (
    Accepted,
    Assigned,
    HandoffEvent,
    OpportunityClosed,
    OpportunityConverted,
    Reassigned,
    Rejected,
    ReturnedToQueue,
    SlaBreached,
)

Status = Literal["unrouted", "assigned", "accepted", "rejected", "converted", "closed_won", "closed_lost"]
STATUSES: tuple[Status, ...] = (
    "unrouted",
    "assigned",
    "accepted",
    "rejected",
    "converted",
    "closed_won",
    "closed_lost",
)
Action = Literal["assign", "reassign", "accept", "reject", "convert", "close", "breach_sla", "return_to_queue"]
# What each state allows; the terminal states allow nothing.
ALLOWED: dict[Status, tuple[Action, ...]] = {
    "unrouted": ("assign",),
    "assigned": ("reassign", "accept", "reject", "breach_sla", "return_to_queue"),
    "accepted": ("convert",),
    "converted": ("close",),
    "rejected": (),
    "closed_won": (),
    "closed_lost": (),
}
# Taken by the SLA clock, never offered to people; a manager assigns an unrouted handoff by reassigning it.
_CLOCK_ACTIONS: frozenset[Action] = frozenset({"breach_sla", "return_to_queue"})
_Ref = tuple[uuid.UUID, uuid.UUID, datetime, int]  # the fields every fact starts with
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class HandoffError(ValueError):
    """A command the handoff refuses; nothing changed."""


class ActionNotAllowed(HandoffError):  # noqa: N818 - reads as what happened, like PermissionError
    """The action is not allowed in the handoff's current state (the API answers 409)."""

    def __init__(self, status: Status, action: Action) -> None:
        self.status, self.action, self.allowed = status, action, ALLOWED[status]
        allowed = ", ".join(actions_for_people(status)) or "none by people now"
        super().__init__(f"{action} is not allowed on a handoff that is {status} (allowed: {allowed})")


class InvalidCommand(HandoffError):  # noqa: N818 - reads as what the command is
    """A command's value is refused (the API answers 422); the message names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class Opportunity:
    """The opportunity an accepted handoff became."""

    opportunity_id: uuid.UUID
    name: str
    amount: Decimal | None
    currency: str | None
    expected_close_date: date | None


@dataclass(frozen=True)
class HandoffState:
    """Where a handoff stands: its status, rep, SLA deadline, and the outcome so far."""

    handoff_id: uuid.UUID
    lead_id: uuid.UUID
    status: Status = "unrouted"
    version: int = 1
    rep_id: uuid.UUID | None = None
    assigned_at: datetime | None = None
    due_at: datetime | None = None
    breached: bool = False  # the current deadline has passed without an answer
    breach_count: int = 0
    accepted_at: datetime | None = None
    rejection_reason: str | None = None
    opportunity: Opportunity | None = None
    lost_reason: str | None = None
    closed_amount: Decimal | None = None
    closed_at: datetime | None = None


ACTIONS: dict[type[Command], Action] = {
    Assign: "assign",
    Reassign: "reassign",
    Accept: "accept",
    Reject: "reject",
    Convert: "convert",
    Close: "close",
    BreachSla: "breach_sla",
    ReturnToQueue: "return_to_queue",
}


@dataclass(frozen=True)
class Transition:
    """The state after a command and the events it caused (exactly one)."""

    state: HandoffState
    events: tuple[HandoffEvent, ...]


def decide(state: HandoffState, command: Command, now: datetime) -> Transition:
    """Apply a command at `now`: the new state and its event, or a HandoffError and no change."""
    action = ACTIONS[type(command)]
    if action not in ALLOWED[state.status]:
        raise ActionNotAllowed(state.status, action)
    _aware(now, "now")
    changed, event = _apply(state, command, now)
    return Transition(replace(changed, version=state.version + 1), (event,))


def allowed_actions(state: HandoffState) -> tuple[Action, ...]:
    """The actions the handoff's current state allows."""
    return ALLOWED[state.status]


def actions_for_people(status: Status) -> tuple[Action, ...]:
    """What a rep, manager or sales ops may do in this state (the SLA clock's own actions left out)."""
    return tuple(
        "reassign" if action == "assign" else action for action in ALLOWED[status] if action not in _CLOCK_ACTIONS
    )


def _apply(state: HandoffState, command: Command, now: datetime) -> tuple[HandoffState, HandoffEvent]:
    ref = (state.handoff_id, state.lead_id, now, state.version + 1)
    match command:
        case Assign(rep_id, due_at, routing_rule):
            _deadline(due_at, now)
            assigned = replace(state, status="assigned", rep_id=rep_id, assigned_at=now, due_at=due_at, breached=False)
            return assigned, Assigned(*ref, rep_id=rep_id, due_at=due_at, routing_rule=routing_rule)
        case Reassign(rep_id, due_at, reason, by):
            _deadline(due_at, now)
            if rep_id == state.rep_id:
                raise InvalidCommand("rep_id", f"the handoff is already assigned to rep {rep_id}")
            _code(reason, "reason")
            moved = replace(state, rep_id=rep_id, assigned_at=now, due_at=due_at, breached=False)
            reassigned = Reassigned(
                *ref, previous_rep_id=_rep(state), rep_id=rep_id, reason=reason, due_at=due_at, by=by
            )
            return moved, reassigned
        case Accept(note):
            within = now < _due(state)
            accepted = replace(state, status="accepted", accepted_at=now)
            return accepted, Accepted(
                *ref, rep_id=_rep(state), assigned_at=_assigned(state), within_sla=within, note=note
            )
        case Reject(reason_code, allowed_codes, note):
            if reason_code not in allowed_codes:
                raise InvalidCommand(
                    "reason_code", f"{reason_code!r} is not an agreed reason (allowed: {', '.join(allowed_codes)})"
                )
            rejected = replace(state, status="rejected", rejection_reason=reason_code)
            return rejected, Rejected(*ref, rep_id=_rep(state), reason_code=reason_code, note=note)
        case Convert():
            opportunity = _opportunity(command)
            converted = replace(state, status="converted", opportunity=opportunity)
            opened = OpportunityConverted(
                *ref, rep_id=_rep(state), opportunity_id=opportunity.opportunity_id, name=opportunity.name,
                amount=opportunity.amount, currency=opportunity.currency,
                expected_close_date=opportunity.expected_close_date,
            )  # fmt: skip
            return converted, opened
        case Close():
            return _close(state, command, now, ref)
        case BreachSla(on_breach, escalated_to):
            if now < _due(state):
                raise InvalidCommand("now", f"the deadline {_due(state).isoformat()} has not passed")
            if state.breached:
                raise InvalidCommand("due_at", f"the deadline {_due(state).isoformat()} was already breached")
            if (on_breach == "escalate") != (escalated_to is not None):
                raise InvalidCommand("escalated_to", "a manager is needed for escalate, and only for escalate")
            breached = replace(state, breached=True, breach_count=state.breach_count + 1)
            event = SlaBreached(
                *ref, rep_id=_rep(state), due_at=_due(state), on_breach=on_breach,
                escalated_to=escalated_to, breach_count=breached.breach_count,
            )  # fmt: skip
            return breached, event
        case ReturnToQueue(reason):
            _code(reason, "reason")
            queued = replace(state, status="unrouted", rep_id=None, assigned_at=None, due_at=None, breached=False)
            return queued, ReturnedToQueue(*ref, previous_rep_id=_rep(state), reason=reason)
    raise AssertionError(f"unreachable: unknown command {command!r}")  # pragma: no cover


def _close(state: HandoffState, command: Close, now: datetime, ref: _Ref) -> tuple[HandoffState, HandoffEvent]:
    opportunity = state.opportunity
    assert opportunity is not None  # converted always has one
    if command.outcome == "lost" and not command.lost_reason:
        raise InvalidCommand("lost_reason", "required when the outcome is lost")
    if command.outcome == "won" and command.lost_reason is not None:
        raise InvalidCommand("lost_reason", "only for a lost opportunity")
    if command.lost_reason is not None:
        _code(command.lost_reason, "lost_reason")
    currency = command.currency or opportunity.currency
    _money(command.amount, currency if command.amount is not None else command.currency)
    closed = replace(
        state,
        status="closed_won" if command.outcome == "won" else "closed_lost",
        lost_reason=command.lost_reason,
        closed_amount=command.amount,
        closed_at=now,
    )
    event = OpportunityClosed(
        *ref,
        rep_id=_rep(state),
        opportunity_id=opportunity.opportunity_id,
        outcome=command.outcome,
        amount=command.amount,
        currency=currency if command.amount is not None else None,
        lost_reason=command.lost_reason,
        note=command.note,
    )
    return closed, event


def _opportunity(command: Convert) -> Opportunity:
    name = command.name.strip()
    if not name or len(name) > 300:
        raise InvalidCommand("name", f"must be 1 to 300 characters (got {len(name)})")
    _money(command.amount, command.currency)
    return Opportunity(command.opportunity_id, name, command.amount, command.currency, command.expected_close_date)


def _money(amount: Decimal | None, currency: str | None) -> None:
    if amount is None:
        if currency is not None:
            raise InvalidCommand("amount", f"a currency ({currency}) needs an amount")
        return
    if not amount.is_finite() or amount < 0:
        raise InvalidCommand("amount", f"must be a finite amount >= 0 (got {amount})")
    if currency is None or not _CURRENCY.match(currency):
        raise InvalidCommand("currency", f"an ISO 4217 code of three capital letters is needed (got {currency!r})")


def _code(value: str, field: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", value):
        raise InvalidCommand(field, f"must be a snake_case code (got {value!r})")


def _deadline(due_at: datetime, now: datetime) -> None:
    _aware(due_at, "due_at")
    if due_at <= now:
        raise InvalidCommand("due_at", f"must be after now ({due_at.isoformat()} <= {now.isoformat()})")


def _aware(value: datetime, field: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidCommand(field, f"must be timezone-aware (got {value.isoformat()})")


def _rep(state: HandoffState) -> uuid.UUID:
    assert state.rep_id is not None  # every state past unrouted has a rep
    return state.rep_id


def _due(state: HandoffState) -> datetime:
    assert state.due_at is not None  # an assigned handoff has a deadline
    return state.due_at


def _assigned(state: HandoffState) -> datetime:
    assert state.assigned_at is not None  # an assigned handoff has its instant
    return state.assigned_at
