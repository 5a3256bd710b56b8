"""What can be asked of a handoff: the commands its state machine decides on, as plain values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True)
class Assign:
    """Route the handoff to a rep, who must answer by `due_at`."""

    rep_id: uuid.UUID
    due_at: datetime
    routing_rule: str


@dataclass(frozen=True)
class Reassign:
    """Move the handoff to another rep with a new deadline."""

    rep_id: uuid.UUID
    due_at: datetime
    reason: str  # sla_breached, rep_unavailable, manager_override, territory_change
    by: str | None = None  # the user; None when automatic


@dataclass(frozen=True)
class Accept:
    """The rep accepts the handoff."""

    note: str | None = None


@dataclass(frozen=True)
class Reject:
    """The rep sends the handoff back with a reason code from the definition's agreed list."""

    reason_code: str
    allowed_codes: tuple[str, ...]  # the published definition's list
    note: str | None = None


@dataclass(frozen=True)
class Convert:
    """Sales turns the accepted handoff into an opportunity."""

    opportunity_id: uuid.UUID
    name: str
    amount: Decimal | None = None
    currency: str | None = None  # ISO 4217, with the amount
    expected_close_date: date | None = None


@dataclass(frozen=True)
class Close:
    """The opportunity is won or lost."""

    outcome: Literal["won", "lost"]
    lost_reason: str | None = None
    amount: Decimal | None = None
    currency: str | None = None  # defaults to the opportunity's
    note: str | None = None


@dataclass(frozen=True)
class BreachSla:
    """The deadline passed unanswered; `on_breach` is the definition's policy, applied by the next command."""

    on_breach: Literal["escalate", "reassign", "return_to_queue"]
    escalated_to: uuid.UUID | None = None


@dataclass(frozen=True)
class ReturnToQueue:
    """Take the handoff back from its rep into the unrouted queue."""

    reason: str


Command = Assign | Reassign | Accept | Reject | Convert | Close | BreachSla | ReturnToQueue
