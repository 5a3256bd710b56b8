"""What the `nurture` consumer group does with each fact it reads: keep its projection, enroll, exit, attribute.

Leads (lead.scored, lead.qualified, lead.disqualified), touches (consent, engagement, erasure), handoffs and
sales feedback (a handoff ends nurture; a rejection the recycle policy sends back to nurture sets its timer).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from eventlog.processor import Handler
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
from services.nurture.contacts.domain import UNSUBSCRIBE
from services.nurture.enrollment import handlers as enrollment
from services.nurture.enrollment import repository
from services.nurture.enrollment.book import TrackBook
from services.nurture.steps import domain as steps
from services.nurture.tracks.entry import NURTURED_STAGES
from services.nurture.tracks.timing import contact_zone
from timers.schedule import schedule

TOPICS = (LEADS, TOUCHES, HANDOFFS, FEEDBACK)
GROUP = "nurture"


def handlers(book: TrackBook) -> dict[str, Handler]:
    """The handler of each event type nurture reads, over `book`."""

    def on(function: Callable[[Any, UnitOfWork, TrackBook], None]) -> Handler:
        return lambda event, uow: function(event, uow, book)

    return {
        "leadflow.lead.scored.v1": on(lead_scored),
        "leadflow.lead.qualified.v1": on(lead_qualified),
        "leadflow.lead.disqualified.v1": on(lead_disqualified),
        "leadflow.contact.erased.v1": on(contact_erased),
        "leadflow.contact.identified.v1": on(contact_identified),
        "leadflow.touch.recorded.v1": on(touch_recorded),
        "leadflow.handoff.created.v1": on(handed_off),
        "leadflow.handoff.rejected.v1": on(handoff_rejected),
        "leadflow.opportunity.converted.v1": on(converted),
        "leadflow.opportunity.closed.v1": on(converted),
    }


def lead_scored(event: Event[LeadScored], uow: UnitOfWork, book: TrackBook) -> None:
    """A raw or engaged lead enters the track it meets, unless it is in one; consent lost ends nurture."""
    contact = projection.scored(uow.session, event.data, event.time)
    if contact.unsubscribed_at is not None or contact.marketing_consent is False:
        enrollment.leave(uow, book, contact.contact_id, "unsubscribed", now=event.time)
    elif contact.stage in NURTURED_STAGES:
        enrollment.consider(uow, book, contact, now=event.time)


def lead_qualified(event: Event[LeadQualified], uow: UnitOfWork, book: TrackBook) -> None:
    """The lead qualified: nurture has done its work."""
    contact = projection.staged(uow.session, event.data, "mql", event.time)
    if contact.email is None:
        contact.email = event.data.contact.email.strip().lower()
    enrollment.leave(uow, book, event.data.contact_id, "qualified", now=event.time)


def lead_disqualified(event: Event[LeadDisqualified], uow: UnitOfWork, book: TrackBook) -> None:
    """The lead was ruled out."""
    projection.staged(uow.session, event.data, "disqualified", event.time)
    enrollment.leave(uow, book, event.data.contact_id, "disqualified", now=event.time)


def contact_erased(event: Event[ContactErased], uow: UnitOfWork, book: TrackBook) -> None:
    """The person asked to be forgotten: nurture stops at once and keeps nothing that names them."""
    contact = projection.erased(uow.session, event.data, event.time)
    if contact is not None:
        enrollment.leave(uow, book, contact.contact_id, "erased", now=event.time, force=True)


def contact_identified(event: Event[ContactIdentified], uow: UnitOfWork, book: TrackBook) -> None:
    """Consent withdrawn in marketing automation ends nurture."""
    contact = projection.identified(uow.session, event.data, event.time)
    if contact is not None and contact.marketing_consent is False:
        enrollment.leave(uow, book, contact.contact_id, "unsubscribed", now=event.time, force=True)


def touch_recorded(event: Event[TouchRecorded], uow: UnitOfWork, book: TrackBook) -> None:
    """An unsubscribe ends nurture; a touch with a nurture action's content is that step's engagement."""
    data = event.data
    contact = projection.touch(uow.session, data, event.time)
    if contact is None:
        return
    if data.touch_type == UNSUBSCRIBE:
        enrollment.leave(uow, book, contact.contact_id, "unsubscribed", now=event.time, force=True)
        return
    at = data.occurred_at or event.time
    run = repository.attributable(
        uow.session, contact.contact_id, content_id=data.content_id, campaign=data.campaign, before=event.time
    )
    if run is None:
        return
    run.engaged_at = at
    current = repository.active(uow.session, contact.contact_id)
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
        enrollment.end(uow, current, steps.EXHAUSTED, now=event.time)
    else:
        enrollment.move(uow, current, position)


def handed_off(event: Event[HandoffCreated], uow: UnitOfWork, book: TrackBook) -> None:
    """The lead is with sales now."""
    enrollment.leave(uow, book, event.data.contact_id, "handed_off", now=event.time)


def converted(event: Event[OpportunityConverted | OpportunityClosed], uow: UnitOfWork, book: TrackBook) -> None:
    """The lead became (or closed) an opportunity."""
    enrollment.leave(uow, book, event.data.contact_id, "converted", now=event.time)


def handoff_rejected(event: Event[HandoffRejected], uow: UnitOfWork, book: TrackBook) -> None:
    """Sales sent the lead back: where the recycle policy says nurture, it enters after the recycle delay."""
    data = event.data
    if data.recycle.action != "nurture":
        return
    schedule(
        uow,
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
