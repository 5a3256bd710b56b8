"""lead_scoring's event handlers: touches and identities in, scores and qualifications out.

A poll's batch is handled by one `ScoringBatch`: every account it touches is loaded once and kept in memory
while the batch's events are applied in log order, each at its own event time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete

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
from events.catalog.common import ContactIdentity
from events.registry import Event, new_event, type_name
from services.lead_scoring import emission, repository
from services.lead_scoring.accounts import account_attributes, contact_attributes, resolve_contact
from services.lead_scoring.definition import LeadDefinition
from services.lead_scoring.engagement import Touch as ScoringTouch
from services.lead_scoring.explanation import explain
from services.lead_scoring.lifecycle import ContactFacts, LeadState, Transition, evaluate_account, next_state, recycle
from services.lead_scoring.matching import external_id_pairs
from services.lead_scoring.models import Account, Contact, ContactExternalId, Lead, SalesOutcome, Touch
from services.lead_scoring.normalise import normalise_email
from services.lead_scoring.scoring import Consent

SOURCE = "lead_scoring"


@dataclass
class Scope:
    """An account (or a contact without one) with everything its evaluation needs, loaded once per batch."""

    account: Account | None
    contacts: list[Contact]
    touches: dict[uuid.UUID, list[ScoringTouch]]
    leads: dict[uuid.UUID, Lead]


@dataclass
class ScoringBatch:
    """The state one batch of events works on."""

    uow: UnitOfWork
    definition: LeadDefinition | None
    scopes: dict[tuple[str, uuid.UUID], Scope] = field(default_factory=dict)
    touch_ids: set[uuid.UUID] = field(default_factory=set)
    # Contacts of this batch by normalised email, each with its account settled: no query needed for them.
    known: dict[str, Contact] = field(default_factory=dict)

    def prefetch(self, events: Sequence[Event[Any]]) -> None:
        """Load in a few queries what the batch's touches need: their contacts, accounts and touch history."""
        touches = [event.data for event in events if isinstance(event.data, TouchRecorded)]
        self.touch_ids |= repository.existing_touch_ids(self.session, [touch.touch_id for touch in touches])
        emails = {normalise_email(touch.contact.email) for touch in touches if touch.contact.email}
        contacts = repository.contacts_by_email(self.session, emails)
        self.known.update({contact.email: contact for contact in contacts if contact.email and contact.account_id})
        self.load_accounts({contact.account_id for contact in contacts if contact.account_id})

    def load_accounts(self, account_ids: set[uuid.UUID]) -> None:
        """Load the scopes of these accounts in four queries, however many there are."""
        account_ids -= {account_id for kind, account_id in self.scopes if kind == "account"}
        members = repository.contacts_of_accounts(self.session, account_ids)
        ids = [member.id for accounts_members in members.values() for member in accounts_members]
        history, leads = repository.touches_of(self.session, ids), repository.leads_of(self.session, ids)
        for account in repository.accounts(self.session, account_ids):
            scope_contacts = members.get(account.id, [])
            self.scopes[("account", account.id)] = Scope(
                account,
                scope_contacts,
                {contact.id: history.get(contact.id, []) for contact in scope_contacts},
                {contact.id: leads[contact.id] for contact in scope_contacts if contact.id in leads},
            )

    def contact_of(self, identity: ContactIdentity, now: datetime) -> Contact:
        """The contact behind a touch's identity: from the batch's prefetch when the email says it all."""
        email = normalise_email(identity.email) if identity.email else None
        quiet = not external_id_pairs(identity.external_ids)
        if email and quiet and (contact := self.known.get(email)) is not None:
            return contact
        return resolve_contact(self.session, identity, now)

    @property
    def session(self) -> Any:
        """The unit of work's session."""
        return self.uow.session

    def scope_of(self, contact: Contact) -> Scope:
        """The loaded scope the contact is evaluated in; a contact new to the scope joins it."""
        key = ("account", contact.account_id) if contact.account_id else ("contact", contact.id)
        scope = self.scopes.get(key)
        if scope is None:
            account = self.session.get(Account, contact.account_id) if contact.account_id else None
            members = repository.contacts_of_account(self.session, account.id) if account else [contact]
            ids = [member.id for member in members]
            scope = Scope(
                account, members, repository.touches_of(self.session, ids), repository.leads_of(self.session, ids)
            )
            self.scopes[key] = scope
        if contact not in scope.contacts:
            scope.contacts.append(contact)
            scope.touches.update(repository.touches_of(self.session, [contact.id]))
            scope.leads.update(repository.leads_of(self.session, [contact.id]))
        return scope

    def rescore(self, contact: Contact, now: datetime, trigger: uuid.UUID | None) -> None:
        """Evaluate the contact's account at `now`; persist and announce what changed."""
        if self.definition is None:
            return  # nothing is scored before marketing and sales published a definition
        scope = self.scope_of(contact)
        rescore_scope(self.uow, self.definition, scope, now, trigger=trigger, focus={contact.id})


def rescore_scope(
    uow: UnitOfWork,
    definition: LeadDefinition,
    scope: Scope,
    now: datetime,
    *,
    trigger: uuid.UUID | None,
    focus: set[uuid.UUID],
) -> None:
    """Evaluate a scope; contacts in `focus` are stored and announced on any change, the others on a new stage."""
    live = [contact for contact in scope.contacts if contact.merged_into is None]
    facts = [
        ContactFacts(
            contact_id=contact.id,
            email=contact.email,
            attributes=contact_attributes(contact),
            consent=consent_of(contact),
            buying_role=contact.buying_role,
            touches=scope.touches.get(contact.id, []),
            cycle_started_at=lead.cycle_started_at if (lead := scope.leads.get(contact.id)) else None,
        )
        for contact in live
    ]
    account = account_attributes(scope.account) if scope.account else None
    verdicts = evaluate_account(definition, account, facts, now, detail_for=focus)
    for contact in live:
        lead = scope.leads.get(contact.id)
        transition = next_state(state_of(lead), verdicts[contact.id], has_email=contact.email is not None, now=now)
        stage_moved = lead is None or transition.state.stage != lead.stage
        if not (stage_moved or (contact.id in focus and transition.changed)):
            continue
        verdict = verdicts[contact.id]
        if contact.id not in focus:  # its explanation needs the engagement hits the quick evaluation left out
            verdict = evaluate_account(definition, account, facts, now, detail_for={contact.id})[contact.id]
        scope.leads[contact.id] = store_lead(uow, lead, contact, transition, explain(definition, *_parts(verdict)), now)
        emit = _emitter(uow, contact, scope.account, now)
        emit(emission.lead_scored(definition, contact, scope.account, transition, verdict, trigger))
        if transition.qualified:
            emit(
                emission.lead_qualified(
                    definition,
                    contact,
                    scope.account,
                    transition,
                    verdict,
                    members=live,
                    leads=scope.leads,
                    touches=scope.touches,
                )
            )
        if transition.disqualified:
            emit(emission.lead_disqualified(contact, scope.account, transition, verdict))


def _parts(verdict: Any) -> tuple[Any, Any, Any]:
    return verdict.score, verdict.account, verdict.decision


def _emitter(uow: UnitOfWork, contact: Contact, account: Account | None, now: datetime) -> Callable[[Any], None]:
    key = emission.account_key(contact, account)
    return lambda data: uow.emit(new_event(data, key=key, time=now, source=SOURCE, subject=str(contact.id)))


def consent_of(contact: Contact) -> Consent:
    """What the contact allowed."""
    consent = contact.attributes.get("marketing_consent")
    return Consent(
        marketing_consent=consent if isinstance(consent, bool) else None,
        unsubscribed=contact.consent == "unsubscribed",
        erased=contact.erased_at is not None,
    )


def state_of(lead: Lead | None) -> LeadState | None:
    """The stored lead as the lifecycle rules see it."""
    if lead is None:
        return None
    return LeadState(
        stage=lead.stage,  # type: ignore[arg-type]
        reason=lead.reason,
        fit_score=lead.fit_score,
        fit_grade=lead.fit_grade,
        engagement_score=lead.engagement_score,
        account_score=lead.account_score,
        definition_version=lead.definition_version,
        qualification_cycle=lead.qualification_cycle,
        cycle_started_at=lead.cycle_started_at,
        recycled_until=lead.recycled_until,
        mql_at=lead.mql_at,
    )


def store_lead(
    uow: UnitOfWork,
    lead: Lead | None,
    contact: Contact,
    transition: Transition,
    explanation: dict[str, Any],
    now: datetime,
) -> Lead:
    """Write the lead's new state."""
    state = transition.state
    if lead is None:
        lead = Lead(contact_id=contact.id)
        uow.session.add(lead)
    lead.account_id = contact.account_id
    lead.stage, lead.reason = state.stage, state.reason
    lead.fit_score, lead.fit_grade = state.fit_score, state.fit_grade
    lead.engagement_score, lead.account_score = state.engagement_score, state.account_score
    lead.definition_version = state.definition_version
    lead.qualification_cycle, lead.mql_at = state.qualification_cycle, state.mql_at
    lead.cycle_started_at, lead.recycled_until = state.cycle_started_at, state.recycled_until
    lead.explanation, lead.scored_at = explanation, now
    return lead


def on_touch_recorded(batch: ScoringBatch, event: Event[TouchRecorded]) -> None:
    """A touch: match it to its contact and account, keep it, and rescore the account."""
    data = event.data
    contact = batch.contact_of(data.contact, event.time)
    if data.touch_id in batch.touch_ids:
        return  # the same touch sent again under a new event id
    batch.touch_ids.add(data.touch_id)
    occurred_at = data.occurred_at or event.time
    scope = batch.scope_of(contact)  # loaded before the new touch is written, which joins it below
    batch.session.add(
        Touch(
            id=data.touch_id,
            contact_id=contact.id,
            account_id=contact.account_id,
            occurred_at=occurred_at,
            touch_type=data.touch_type,
            channel=data.channel,
            campaign=data.campaign,
            content_id=data.content_id,
            content_tags=list(data.content_tags),
            source_system=data.source_system,
            url=data.url,
        )
    )
    if data.touch_type == "unsubscribe":
        contact.consent = "unsubscribed"
    scope.touches.setdefault(contact.id, []).append(
        ScoringTouch(
            str(data.touch_id), occurred_at, data.touch_type, data.channel, data.campaign, tuple(data.content_tags)
        )
    )
    batch.rescore(contact, max(event.time, occurred_at), event.id)


def on_contact_identified(batch: ScoringBatch, event: Event[ContactIdentified]) -> None:
    """Who a person is: contact and account attributes (the fit data) are learned, and the account rescored."""
    data = event.data
    identity = ContactIdentity(email=data.email, external_ids=data.external_ids)
    contact = resolve_contact(batch.session, identity, event.time, traits=data.traits, hint=data.account)
    batch.rescore(contact, event.time, event.id)


def on_contact_erased(batch: ScoringBatch, event: Event[ContactErased]) -> None:
    """The right to be forgotten: personal data and touches go, the lead is disqualified for good."""
    data = event.data
    contact = batch.session.get(Contact, data.contact_id) if data.contact_id else None
    if contact is None:
        emails = [normalise_email(data.email)] if data.email else []
        candidates = repository.contact_candidates(batch.session, emails, external_id_pairs(data.external_ids))
        contact = batch.session.get(Contact, candidates[0].contact_id) if candidates else None
    if contact is None:
        return
    scope = batch.scope_of(contact)
    contact.erased_at = event.time
    contact.email, contact.attributes, contact.pain_points = None, {}, []
    batch.session.execute(delete(Touch).where(Touch.contact_id == contact.id))
    batch.session.execute(delete(ContactExternalId).where(ContactExternalId.contact_id == contact.id))
    scope.touches[contact.id] = []
    batch.rescore(contact, event.time, event.id)


def on_insight_logged(batch: ScoringBatch, event: Event[AccountInsightLogged]) -> None:
    """Sales learned a contact's buying role or pain points: the committee coverage may change."""
    data = event.data
    contact = batch.session.get(Contact, data.contact_id) if data.contact_id else None
    if contact is None:
        return
    if data.buying_role:
        contact.buying_role = data.buying_role
    if data.pain_points:
        contact.pain_points = sorted({*contact.pain_points, *data.pain_points})
    contact.updated_at = event.time
    batch.rescore(contact, event.time, event.id)


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
    contact = batch.session.get(Contact, data.contact_id)
    lead = batch.session.get(Lead, data.contact_id)
    if contact is None or lead is None:
        return
    state = recycle(state_of(lead), action=data.recycle.action, wait_days=data.recycle.wait_days, now=event.time)  # type: ignore[arg-type]
    lead.stage, lead.reason = state.stage, state.reason
    lead.cycle_started_at, lead.recycled_until = state.cycle_started_at, state.recycled_until
    batch.scope_of(contact).leads[contact.id] = lead
    batch.rescore(contact, event.time, event.id)


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
    batch.prefetch(events)
    for event in events:
        _BY_TYPE[type(event.data)](batch, event)


def handlers() -> Handlers:
    """What the lead_scoring consumer group handles."""
    return Handlers(frozenset(type_name(model) for model in _BY_TYPE), handle_batch)
