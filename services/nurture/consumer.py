"""What the `nurture` consumer group does with each fact it reads: keep its projection, enroll, exit, attribute.

Leads (lead.scored, lead.qualified, lead.disqualified), touches (consent, engagement, erasure), handoffs and
sales feedback (a handoff ends nurture; a rejection the recycle policy sends back to nurture sets its timer).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from eventlog.processor import Handlers
from eventlog.unit_of_work import UnitOfWork
from events.catalog import (
    ContactErased,
    ContactIdentified,
    HandoffCreated,
    HandoffRejected,
    LeadDisqualified,
    LeadQualified,
    LeadScored,
    OpportunityClosed,
    OpportunityConverted,
    TouchRecorded,
)
from events.registry import Event
from events.topics import FEEDBACK, HANDOFFS, LEADS, TOUCHES
from services.nurture.contacts import handlers as projection
from services.nurture.contacts import repository as contacts
from services.nurture.contacts.domain import UNSUBSCRIBE
from services.nurture.contacts.handlers import Known
from services.nurture.enrollment import handlers as enrollment
from services.nurture.enrollment import repository
from services.nurture.enrollment.book import BatchBook, TrackBook
from services.nurture.enrollment.ledger import BatchLedger
from services.nurture.steps import domain as steps
from services.nurture.tracks.entry import NURTURED_STAGES
from services.nurture.tracks.timing import contact_zone
from timers.schedule import schedule

TOPICS = (LEADS, TOUCHES, HANDOFFS, FEEDBACK)
GROUP = "nurture"


@dataclass(frozen=True)
class Batch:
    """What one poll's batch works on: the tracks and settings read once, its contacts and their enrollments
    loaded in one query each (kept up to date as its events change them), its timers written at its end."""

    uow: UnitOfWork
    book: TrackBook
    ledger: BatchLedger
    known: Known

    @classmethod
    def load(cls, uow: UnitOfWork, book: TrackBook, events: Sequence[Event[Any]]) -> Batch:
        """The batch of `events`: every contact they name by id, with its enrollments, read up front."""
        ids = {
            contact_id
            for event in events
            if isinstance(contact_id := getattr(event.data, "contact_id", None), uuid.UUID)
        }
        found = contacts.by_ids(uow.session, ids)
        known: Known = {contact_id: found.get(contact_id) for contact_id in ids}
        return cls(uow, BatchBook(book), BatchLedger(uow, ids), known)


def handlers(book: TrackBook) -> Handlers:
    """The event types nurture reads and its handler of a batch of them, over `book`."""

    def handle_batch(events: Sequence[Event[Any]], uow: UnitOfWork) -> None:
        batch = Batch.load(uow, book, events)
        for event in events:
            _BY_TYPE[event.type](event, batch)
        batch.ledger.finish()

    return Handlers(frozenset(_BY_TYPE), handle_batch)


def lead_scored(event: Event[LeadScored], batch: Batch) -> None:
    """A raw or engaged lead enters the track it meets, unless it is in one; consent lost ends nurture."""
    uow, book, ledger = batch.uow, batch.book, batch.ledger
    contact = projection.scored(uow.session, event.data, event.time, batch.known)
    if contact.unsubscribed_at is not None or contact.marketing_consent is False:
        enrollment.leave(uow, book, contact.contact_id, "unsubscribed", now=event.time, ledger=ledger)
    elif contact.stage in NURTURED_STAGES:
        enrollment.consider(uow, book, contact, now=event.time, ledger=ledger)


def lead_qualified(event: Event[LeadQualified], batch: Batch) -> None:
    """The lead qualified: nurture has done its work."""
    uow = batch.uow
    contact = projection.staged(uow.session, event.data, "mql", event.time, batch.known)
    if contact.email is None:
        contact.email = event.data.contact.email.strip().lower()
    enrollment.leave(uow, batch.book, event.data.contact_id, "qualified", now=event.time, ledger=batch.ledger)


def lead_disqualified(event: Event[LeadDisqualified], batch: Batch) -> None:
    """The lead was ruled out."""
    uow = batch.uow
    projection.staged(uow.session, event.data, "disqualified", event.time, batch.known)
    enrollment.leave(uow, batch.book, event.data.contact_id, "disqualified", now=event.time, ledger=batch.ledger)


def contact_erased(event: Event[ContactErased], batch: Batch) -> None:
    """The person asked to be forgotten: nurture stops at once and keeps nothing that names them."""
    uow = batch.uow
    contact = projection.erased(uow.session, event.data, event.time, batch.known)
    if contact is not None:
        enrollment.leave(uow, batch.book, contact.contact_id, "erased", now=event.time, force=True, ledger=batch.ledger)


def contact_identified(event: Event[ContactIdentified], batch: Batch) -> None:
    """Consent withdrawn in marketing automation ends nurture."""
    uow = batch.uow
    contact = projection.identified(uow.session, event.data, event.time)
    if contact is not None and contact.marketing_consent is False:
        enrollment.leave(
            uow, batch.book, contact.contact_id, "unsubscribed", now=event.time, force=True, ledger=batch.ledger
        )


def touch_recorded(event: Event[TouchRecorded], batch: Batch) -> None:
    """An unsubscribe ends nurture; a touch with a nurture action's content is that step's engagement."""
    uow, book, ledger = batch.uow, batch.book, batch.ledger
    data = event.data
    contact = projection.touch(uow.session, data, event.time)
    if contact is None:
        return
    if data.touch_type == UNSUBSCRIBE:
        enrollment.leave(uow, book, contact.contact_id, "unsubscribed", now=event.time, force=True, ledger=ledger)
        return
    at = data.occurred_at or event.time
    run = repository.attributable(
        uow.session, contact.contact_id, content_id=data.content_id, campaign=data.campaign, before=event.time
    )
    if run is None:
        return
    run.engaged_at = at
    current = ledger.active(contact.contact_id)
    if current is None or current.id != run.enrollment_id:
        return
    track = book.version(uow.session, current.track_key, current.track_version)
    if track is None:
        return
    zone = contact_zone(contact.time_zone, book.settings(uow.session))
    position = steps.engaged(
        track,
        position=steps.Position(current.step, current.phase, current.next_due_at),
        step=run.step,
        acted_at=run.at,
        at=at,
        zone=zone,
    )
    if position is None:
        return
    if position.step is None:
        enrollment.end(uow, current, steps.EXHAUSTED, now=event.time, ledger=ledger)
    else:
        enrollment.move(uow, current, position, ledger=ledger)


def handed_off(event: Event[HandoffCreated], batch: Batch) -> None:
    """The lead is with sales now."""
    enrollment.leave(batch.uow, batch.book, event.data.contact_id, "handed_off", now=event.time, ledger=batch.ledger)


def converted(event: Event[OpportunityConverted | OpportunityClosed], batch: Batch) -> None:
    """The lead became (or closed) an opportunity."""
    enrollment.leave(batch.uow, batch.book, event.data.contact_id, "converted", now=event.time, ledger=batch.ledger)


def handoff_rejected(event: Event[HandoffRejected], batch: Batch) -> None:
    """Sales sent the lead back: where the recycle policy says nurture, it enters after the recycle delay."""
    data = event.data
    if data.recycle.action != "nurture":
        return
    schedule(
        batch.uow,
        owner=enrollment.OWNER,
        kind=enrollment.RECYCLE_DUE,
        key=enrollment.recycle_key(data.contact_id),
        due_at=event.time + timedelta(days=data.recycle.wait_days or 0),
        payload={
            "contact_id": str(data.contact_id),
            "handoff_id": str(data.handoff_id),
            "reason_code": data.reason_code,
            "track_id": data.recycle.track_id,
        },
    )


_BY_TYPE: dict[str, Callable[[Any, Batch], None]] = {
    "leadflow.lead.scored.v1": lead_scored,
    "leadflow.lead.qualified.v1": lead_qualified,
    "leadflow.lead.disqualified.v1": lead_disqualified,
    "leadflow.contact.erased.v1": contact_erased,
    "leadflow.contact.identified.v1": contact_identified,
    "leadflow.touch.recorded.v1": touch_recorded,
    "leadflow.handoff.created.v1": handed_off,
    "leadflow.handoff.rejected.v1": handoff_rejected,
    "leadflow.opportunity.converted.v1": converted,
    "leadflow.opportunity.closed.v1": converted,
}
