"""A handoff's facts onto the outbox, in the caller's transaction, keyed by the account key."""

from __future__ import annotations

from typing import Any

from eventlog.unit_of_work import UnitOfWork
from events.envelope import EventData
from events.registry import new_event
from services.handoff.emission import SOURCE, Known, event_data
from services.handoff.facts import HandoffEvent
from services.handoff.models import HandoffRecord


def known(row: HandoffRecord, **extra: Any) -> Known:
    """What a handoff row adds to its facts' events."""
    return Known(
        contact_id=row.contact_id,
        account_id=row.account_id,
        account_key=row.account_key,
        definition_version=row.definition_version,
        **extra,
    )


def emit(uow: UnitOfWork, row: HandoffRecord, fact: HandoffEvent, **extra: Any) -> None:
    """Emit the catalog event of a fact of the handoff `row`."""
    emit_data(uow, row, event_data(fact, known(row, **extra)), fact.at)


def emit_data(uow: UnitOfWork, row: HandoffRecord, data: EventData, at: Any) -> None:
    """Emit an event about the handoff `row`, at `at`."""
    uow.emit(new_event(data, key=row.account_key, time=at, source=SOURCE, subject=str(row.id)))
