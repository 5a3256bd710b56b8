"""A handoff's facts as catalog events: what the state machine says, plus what only the handler knows (the
account key, the definition version, the recycle policy of a rejection reason, the time to accept). Pure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from events.catalog import (
    HandoffAccepted,
    HandoffAssigned,
    HandoffReassigned,
    HandoffRejected,
    HandoffReturnedToQueue,
    HandoffSlaBreached,
    OpportunityClosed,
    OpportunityConverted,
)
from events.catalog.common import Money, Recycle
from events.envelope import EventData
from services.handoff import facts

SOURCE = "handoff"


@dataclass(frozen=True)
class Known:
    """What the handler adds to a fact: the lead's contact and account, the definition, the SLA's numbers."""

    contact_id: uuid.UUID
    account_id: uuid.UUID | None
    account_key: str
    definition_version: int
    recycle: Recycle | None = None  # of the rejection reason, for a rejection
    warn_at: datetime | None = None  # of a new assignment
    time_to_accept_hours: float | None = None  # for an acceptance


def event_data(fact: facts.HandoffEvent, known: Known) -> EventData:
    """The catalog event of a fact."""
    ref = {
        "handoff_id": fact.handoff_id,
        "lead_id": fact.lead_id,
        "contact_id": known.contact_id,
        "account_id": known.account_id,
    }
    version = known.definition_version
    match fact:
        case facts.Assigned():
            return HandoffAssigned(
                **ref, rep_id=fact.rep_id, routing_rule=fact.routing_rule[:200], due_at=fact.due_at,
                definition_version=version, account_key=known.account_key, warn_at=known.warn_at,
            )  # fmt: skip
        case facts.Reassigned():
            return HandoffReassigned(
                **ref, previous_rep_id=fact.previous_rep_id, rep_id=fact.rep_id, reason=fact.reason,
                due_at=fact.due_at, reassigned_by=fact.by, definition_version=version,
            )  # fmt: skip
        case facts.SlaBreached():
            return HandoffSlaBreached(
                **ref, rep_id=fact.rep_id, due_at=fact.due_at, on_breach=fact.on_breach,
                escalated_to=fact.escalated_to, breach_count=fact.breach_count, definition_version=version,
            )  # fmt: skip
        case facts.ReturnedToQueue():
            return HandoffReturnedToQueue(
                **ref, previous_rep_id=fact.previous_rep_id, reason=fact.reason, definition_version=version
            )
        case facts.Accepted():
            return HandoffAccepted(
                **ref, rep_id=fact.rep_id, within_sla=fact.within_sla, note=fact.note, assigned_at=fact.assigned_at,
                time_to_accept_business_hours=known.time_to_accept_hours, definition_version=version,
            )  # fmt: skip
        case facts.Rejected():
            return HandoffRejected(
                **ref, rep_id=fact.rep_id, reason_code=fact.reason_code, note=fact.note,
                recycle=known.recycle or Recycle(action="close"), definition_version=version,
            )  # fmt: skip
        case facts.OpportunityConverted():
            return OpportunityConverted(
                **ref, opportunity_id=fact.opportunity_id, rep_id=fact.rep_id, name=fact.name,
                amount=_money(fact.amount, fact.currency), expected_close_date=fact.expected_close_date,
                definition_version=version,
            )  # fmt: skip
        case facts.OpportunityClosed():
            return OpportunityClosed(
                **ref, opportunity_id=fact.opportunity_id, rep_id=fact.rep_id, outcome=fact.outcome,
                amount=_money(fact.amount, fact.currency), lost_reason=fact.lost_reason, note=fact.note,
                definition_version=version,
            )  # fmt: skip
    raise AssertionError(f"unreachable: unknown fact {fact!r}")  # pragma: no cover


def _money(amount: Decimal | None, currency: str | None) -> Money | None:
    if amount is None or currency is None:
        return None
    return Money(amount=amount, currency=currency)
