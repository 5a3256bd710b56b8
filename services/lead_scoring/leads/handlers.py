"""lead_scoring's event handlers: touches and identities in, scores and qualifications out.

A poll's batch is handled by one `ScoringBatch` (leads.batch): the books of the accounts it touches are loaded
once and kept in memory while the batch's events are applied in log order, each at its own time, through the
scoring engine (scoring.engine).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventlog.processor import Handlers
from eventlog.unit_of_work import UnitOfWork
from events.catalog import (
    AccountInsightLogged,
    ContactErased,
    ContactIdentified,
    HandoffAccepted,
    HandoffRejected,
    OpportunityClosed,
    OpportunityConverted,
    TouchRecorded,
)
from events.registry import Event, type_name
from services.lead_scoring import repository
from services.lead_scoring.definitions import known_fields
from services.lead_scoring.definitions.field_paths import custom_path
from services.lead_scoring.leads.batch import ScoringBatch
from services.lead_scoring.matching import repository as matching_repository
from services.lead_scoring.matching.domain import Identity
from services.lead_scoring.models import SalesOutcome
from services.lead_scoring.scoring.engagement import LateTouchError
from services.lead_scoring.scoring.engagement import Touch as ScoringTouch


def on_touch_recorded(batch: ScoringBatch, event: Event[TouchRecorded]) -> None:
    """A touch: match it to its contact and account, keep it, and rescore the account."""
    data = event.data
    contact = batch.contact_of(batch.identity_of(event), event.time)
    if data.touch_id in batch.touch_ids:
        return  # the same touch sent again under a new event id
    batch.touch_ids.add(data.touch_id)
    batch.seen.add(("touch_type", data.touch_type))
    occurred_at = data.occurred_at or event.time
    scope = batch.scope_of(contact)  # loaded before the new touch is written
    batch.writes.touch(
        {
            "id": data.touch_id,
            "contact_id": contact.id,
            "account_id": contact.account_id,
            "occurred_at": occurred_at,
            "touch_type": data.touch_type,
            "channel": data.channel,
            "campaign": data.campaign,
            "content_id": data.content_id,
            "content_tags": list(data.content_tags),
            "source_system": data.source_system,
            "url": data.url,
        }
    )
    if data.touch_type == "unsubscribe":
        contact.consent = "unsubscribed"
    if batch.definition is None:
        return  # nothing is scored before marketing and sales published a definition
    touch = ScoringTouch(
        str(data.touch_id), occurred_at, data.touch_type, data.channel, data.campaign, tuple(data.content_tags)
    )
    book = scope.book
    batch.ledgers[contact.id] = batch.ledger(book, contact.id).add(touch)
    latest = book.at
    try:
        if latest is not None and touch.at < latest:
            raise LateTouchError(touch.touch_id)
        book.touch(contact.id, touch)
    except LateTouchError:
        batch.replay_late(scope, contact.id, occurred_at, event.id)
        return
    batch.store(scope, book.decide(contact.id, occurred_at), event.id)


def on_contact_identified(batch: ScoringBatch, event: Event[ContactIdentified]) -> None:
    """Who a person is: contact and account attributes (the fit data) are learned, and the account rescored."""
    data = event.data
    batch.seen.update(("path", path) for name in data.traits.custom if (path := custom_path(name)))
    contact = batch.resolve(Identity.of(data), event.time, traits=data.traits, hint=data.account)
    if batch.definition is None:
        return
    scope = batch.scope_of(contact)
    # A change of the account's attributes changes every lead's fit: all of them are decided again.
    batch.decide(scope, contact, event.time, event.id, everyone=batch.account_changed(scope))


def on_contact_erased(batch: ScoringBatch, event: Event[ContactErased]) -> None:
    """The right to be forgotten: personal data and touches go, the lead is disqualified for good."""
    data = event.data
    contact = matching_repository.contact(batch.session, data.contact_id)
    if contact is None:
        identity = Identity.of(data)
        emails = [identity.email] if identity.email else []
        candidates = matching_repository.contact_candidates(batch.session, emails, identity.external_ids)
        contact = matching_repository.contact(batch.session, candidates[0].contact_id) if candidates else None
    if contact is None:
        return
    batch.known.pop(contact.email or "", None)
    contact.erased_at = event.time
    contact.email, contact.attributes, contact.pain_points = None, {}, []
    batch.writes.flush(batch.session)  # the touches of this batch go too
    matching_repository.forget_touches_and_ids(batch.session, contact.id)
    if batch.definition is None:
        return
    scope = batch.scope_of(contact)
    batch.forget_touches(scope, contact.id)
    batch.decide(scope, contact, event.time, event.id)


def on_insight_logged(batch: ScoringBatch, event: Event[AccountInsightLogged]) -> None:
    """Sales learned a contact's buying role or pain points: the committee coverage may change."""
    data = event.data
    contact = matching_repository.contact(batch.session, data.contact_id)
    if contact is None:
        return
    if data.buying_role:
        contact.buying_role = data.buying_role
    if data.pain_points:
        contact.pain_points = sorted({*contact.pain_points, *data.pain_points})
    contact.updated_at = event.time
    if batch.definition is not None:
        batch.decide(batch.scope_of(contact), contact, event.time, event.id)


def on_sales_outcome(batch: ScoringBatch, event: Event[Any]) -> None:
    """Sales' decisions, kept as the evidence simulations judge definitions by."""
    data = event.data
    outcomes: dict[type[Any], str] = {
        HandoffAccepted: "accepted",
        HandoffRejected: "rejected",
        OpportunityConverted: "converted",
    }
    outcome = outcomes.get(type(data)) or data.outcome  # opportunity.closed: won or lost
    reason = getattr(data, "reason_code", None) or getattr(data, "lost_reason", None)
    batch.session.add(
        SalesOutcome(event_id=event.id, contact_id=data.contact_id, outcome=outcome, reason=reason, at=event.time)
    )
    if isinstance(data, HandoffRejected):
        _recycle(batch, data, event)


def _recycle(batch: ScoringBatch, data: HandoffRejected, event: Event[Any]) -> None:
    # Only an MQL is sent back: a rejection of a handoff of a lead that is no MQL changes nothing.
    contact = matching_repository.contact(batch.session, data.contact_id)
    if contact is None or batch.definition is None:
        return
    scope = batch.scope_of(contact)
    now = batch.not_before(scope, event.time)
    action, wait_days = data.recycle.action, data.recycle.wait_days
    if scope.book.recycle(contact.id, action=action, wait_days=wait_days, now=now):
        batch.decide(scope, contact, now, event.id)


_BY_TYPE: dict[type[Any], Callable[[ScoringBatch, Event[Any]], None]] = {
    TouchRecorded: on_touch_recorded,
    ContactIdentified: on_contact_identified,
    ContactErased: on_contact_erased,
    AccountInsightLogged: on_insight_logged,
    HandoffAccepted: on_sales_outcome,
    HandoffRejected: on_sales_outcome,
    OpportunityConverted: on_sales_outcome,
    OpportunityClosed: on_sales_outcome,
}


def handle_batch(events: Sequence[Event[Any]], uow: UnitOfWork) -> None:
    """Apply a batch of events in log order."""
    batch = ScoringBatch(uow, repository.published(uow.session))
    if batch.definition is not None:
        batch.prefetch([event for event in events if isinstance(event.data, TouchRecorded)])
    for event in events:
        _BY_TYPE[type(event.data)](batch, event)
    batch.writes.flush(uow.session)
    if batch.definition is not None:
        batch.flush_standings()
    if batch.seen:
        known_fields.record(uow.session, batch.seen, events[-1].time)


def handlers() -> Handlers:
    """What the lead_scoring consumer group handles."""
    return Handlers(frozenset(type_name(model) for model in _BY_TYPE), handle_batch)
