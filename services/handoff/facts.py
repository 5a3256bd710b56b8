"""What happened to a handoff, as plain descriptions: the handler turns each into its catalog event.

The catalog (events/catalog/handoffs.py, feedback.py) adds what the handoff alone does not know: the account
key, the definition version, the recycle policy for a rejection reason, the CRM ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True)
class HandoffFact:
    """Which handoff, which lead, when, and the handoff's version after the change."""

    handoff_id: uuid.UUID
    lead_id: uuid.UUID
    at: datetime
    version: int


@dataclass(frozen=True)
class Assigned(HandoffFact):
    """Routed to a rep who must answer by `due_at` (handoff.assigned)."""

    rep_id: uuid.UUID
    due_at: datetime
    routing_rule: str


@dataclass(frozen=True)
class Reassigned(HandoffFact):
    """Moved to another rep with a new deadline (handoff.reassigned)."""

    previous_rep_id: uuid.UUID
    rep_id: uuid.UUID
    reason: str
    due_at: datetime
    by: str | None


@dataclass(frozen=True)
class SlaBreached(HandoffFact):
    """The deadline passed unanswered (handoff.sla_breached)."""

    rep_id: uuid.UUID
    due_at: datetime
    on_breach: Literal["escalate", "reassign", "return_to_queue"]
    escalated_to: uuid.UUID | None
    breach_count: int


@dataclass(frozen=True)
class ReturnedToQueue(HandoffFact):
    """Taken back from its rep into the unrouted queue (no catalog event yet)."""

    previous_rep_id: uuid.UUID
    reason: str


@dataclass(frozen=True)
class Accepted(HandoffFact):
    """The rep accepted (handoff.accepted); `assigned_at` to `at` is the time to accept."""

    rep_id: uuid.UUID
    assigned_at: datetime
    within_sla: bool
    note: str | None


@dataclass(frozen=True)
class Rejected(HandoffFact):
    """The rep sent it back with an agreed reason (handoff.rejected)."""

    rep_id: uuid.UUID
    reason_code: str
    note: str | None


@dataclass(frozen=True)
class OpportunityConverted(HandoffFact):
    """The accepted handoff became an opportunity (opportunity.converted)."""

    rep_id: uuid.UUID
    opportunity_id: uuid.UUID
    name: str
    amount: Decimal | None
    currency: str | None
    expected_close_date: date | None


@dataclass(frozen=True)
class OpportunityClosed(HandoffFact):
    """The opportunity was won or lost (opportunity.closed)."""

    rep_id: uuid.UUID
    opportunity_id: uuid.UUID
    outcome: Literal["won", "lost"]
    amount: Decimal | None
    currency: str | None
    lost_reason: str | None
    note: str | None


HandoffEvent = (
    Assigned
    | Reassigned
    | SlaBreached
    | ReturnedToQueue
    | Accepted
    | Rejected
    | OpportunityConverted
    | OpportunityClosed
)
