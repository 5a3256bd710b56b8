"""lead_scoring's event handlers: touches and identities in, scores and qualifications out.

A poll's batch is handled by one `ScoringBatch`: every account it touches is loaded once and kept in memory
while the batch's events are applied in log order, each at its own event time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

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
from events.catalog.common import AccountHint, ContactIdentity, ContactTraits
from events.registry import Event, new_event, type_name
from services.lead_scoring import repository
from services.lead_scoring.definitions import known_fields
from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.definitions.field_paths import custom_path
from services.lead_scoring.leads import emission
from services.lead_scoring.leads.scope import (
    Member,
    Scope,
    Writes,
    account_attributes,
    contact_attributes,
    lead_states,
    members_of_accounts,
    members_without_account,
)
from services.lead_scoring.matching import repository as matching_repository
from services.lead_scoring.matching.domain import external_id_pairs
from services.lead_scoring.matching.normalise import normalise_email
from services.lead_scoring.matching.resolve import resolve_contact
from services.lead_scoring.models import Account, Contact, ContactExternalId, SalesOutcome, Touch
from services.lead_scoring.scoring.engagement import Touch as ScoringTouch
from services.lead_scoring.scoring.explanation import explain
from services.lead_scoring.scoring.lifecycle import (
    ContactFacts,
    LeadState,
    Transition,
    Verdict,
    evaluate_account,
    may_qualify_in_the_past,
    next_state,
    recycle,
)
from services.lead_scoring.scoring.rules import Consent, ProfileMemo

SOURCE = "lead_scoring"
# A change to a lead's transition, given its contact id, stored state and verdict.
Adjust = Callable[[uuid.UUID, LeadState | None, Transition, Verdict], Transition]
PROFILES = ProfileMemo()  # shared by the consumer and the rescorer of this process


@dataclass
class ScoringBatch:
    """The state one batch of events works on: the scopes it loaded and the touch and lead rows it writes."""

    uow: UnitOfWork
    definition: LeadDefinition | None
    scopes: dict[tuple[str, uuid.UUID], Scope] = field(default_factory=dict)
    # The scope each loaded contact is in: a contact that changed accounts is taken out of the old one.
    placed: dict[uuid.UUID, tuple[str, uuid.UUID]] = field(default_factory=dict)
    touch_ids: set[uuid.UUID] = field(default_factory=set)
    # Contacts of this batch by normalised email, each with its account settled: no query needed for them.
    known: dict[str, Contact] = field(default_factory=dict)
    writes: Writes = field(default_factory=Writes)
    # Touch types and custom field paths of the batch, for the warnings on definitions (known_fields).
    seen: set[tuple[str, str]] = field(default_factory=set)

    @property
    def session(self) -> Any:
        """The unit of work's session."""
        return self.uow.session

    def prefetch(self, events: Sequence[Event[Any]]) -> None:
        """Load in a few queries what the batch's touches need: their contacts, accounts and touch history."""
        touches = [event.data for event in events if isinstance(event.data, TouchRecorded)]
        self.touch_ids |= repository.existing_touch_ids(self.session, [touch.touch_id for touch in touches])
        emails = {normalise_email(touch.contact.email) for touch in touches if touch.contact.email}
        contacts = matching_repository.contacts_by_email(self.session, emails)
        self.known.update({contact.email: contact for contact in contacts if contact.email and contact.account_id})
        self.load_scopes({contact.account_id for contact in contacts if contact.account_id})

    def load_scopes(self, keys: Collection[uuid.UUID]) -> list[Scope]:
        """The scopes of these accounts, or of these contacts for those without one, in a few queries."""
        wanted = set(keys) - {key for _, key in self.scopes}
        accounts = repository.accounts(self.session, wanted)
        alone = members_without_account(self.session, wanted - {account.id for account in accounts})
        members = members_of_accounts(self.session, [account.id for account in accounts])
        ids = [member.id for group in (*members.values(), alone) for member in group]
        history, leads = repository.touches_of(self.session, ids), lead_states(self.session, ids)
        groups: list[tuple[tuple[str, uuid.UUID], Account | None, list[Member]]] = [
            (("account", account.id), account, members.get(account.id, [])) for account in accounts
        ]
        groups += [(("contact", member.id), None, [member]) for member in alone]
        for key, account, group in groups:
            self.scopes[key] = Scope(
                account,
                {member.id: member for member in group},
                {member.id: history[member.id] for member in group if member.id in history},
                {member.id: leads[member.id] for member in group if member.id in leads},
            )
            self.placed.update(dict.fromkeys((member.id for member in group), key))
        return [scope for key in keys for kind in ("account", "contact") if (scope := self.scopes.get((kind, key)))]

    def contact_of(self, identity: ContactIdentity, now: datetime) -> Contact:
        """The contact behind a touch's identity: from the batch's prefetch when the email says it all."""
        email = normalise_email(identity.email) if identity.email else None
        quiet = not external_id_pairs(identity.external_ids)
        if email and quiet and (contact := self.known.get(email)) is not None:
            return contact
        return self.resolve(identity, now)

    def resolve(
        self,
        identity: ContactIdentity,
        now: datetime,
        traits: ContactTraits | None = None,
        hint: AccountHint | None = None,
    ) -> Contact:
        """Match an identity. Matching may merge duplicates (deleting their leads) and move a contact to an account:
        the batch's lead rows are stored first, and the contacts involved are read again when next needed."""
        self.writes.flush(self.session)
        contact = resolve_contact(self.session, identity, now, traits=traits, hint=hint)
        merged = set(self.session.scalars(select(Contact.id).where(Contact.merged_into == contact.id)))
        if merged:
            self.known = {email: known for email, known in self.known.items() if known.id not in merged}
        self._forget({contact.id, *merged})
        return contact

    def _forget(self, contact_ids: set[uuid.UUID]) -> None:
        for contact_id in contact_ids:
            key = self.placed.pop(contact_id, None)
            if key is not None and (scope := self.scopes.get(key)) is not None:
                scope.members.pop(contact_id, None)
                scope.touches.pop(contact_id, None)
                scope.leads.pop(contact_id, None)

    def scope_of(self, contact: Contact) -> Scope:
        """The loaded scope the contact is evaluated in, with its latest snapshot; a contact new to it joins it."""
        key = ("account", contact.account_id) if contact.account_id else ("contact", contact.id)
        if self.placed.get(contact.id) != key:
            self.writes.flush(self.session)  # what is read from the database must be current
            if key not in self.scopes:
                self.load_scopes({key[1]})
            scope = self.scopes.setdefault(key, Scope(None, {}, {}, {}))
            if self.placed.get(contact.id) != key:
                self._forget({contact.id})
                scope.touches.update(repository.touches_of(self.session, [contact.id]))
                scope.leads.update(lead_states(self.session, [contact.id]))
                self.placed[contact.id] = key
        scope = self.scopes[key]
        scope.members[contact.id] = Member.of(contact)
        return scope

    def rescore(self, contact: Contact, now: datetime, trigger: uuid.UUID | None) -> None:
        """Evaluate the contact's account at `now`; after a late event, at each later instant it had been evaluated
        at too. Store and announce what changed.

        An account's events may arrive out of time order (a producer partitioning by another hash puts them on two
        partitions, read by two consumers). An event older than what the account already knows changes a past that
        was scored without it: the account is evaluated again at `now` and at each later touch or identify, in time
        order, so a lead qualifies at the first instant its known history meets the criteria (`mql_at`), once; then
        at the latest instant, whose scores are stored: never scores as of an older instant. In those past instants
        only qualifications count, and not for a lead qualified or disqualified since (`may_qualify_in_the_past`).
        Events in time order are evaluated once, at `now`.
        """
        if self.definition is None:
            return  # nothing is scored before marketing and sales published a definition
        scope = self.scope_of(contact)
        *earlier, latest = sorted({now, *later_instants(scope, now)})
        qualified: set[uuid.UUID] = set()
        for instant in earlier:  # the past, told again: only qualifications are stored and announced
            if not any(may_qualify_in_the_past(scope.leads.get(member), instant) for member in scope.members):
                continue  # no lead may qualify at that instant: nothing to evaluate
            qualified |= self.evaluate(scope, instant, trigger=trigger, focus=set(), past=True)
        self.evaluate(scope, latest, trigger=trigger, focus={contact.id, *qualified})  # and scored as of now

    def evaluate(
        self,
        scope: Scope,
        now: datetime,
        *,
        trigger: uuid.UUID | None,
        focus: set[uuid.UUID],
        past: bool = False,
        adjust: Adjust | None = None,
    ) -> set[uuid.UUID]:
        """Evaluate a scope; contacts in `focus` are stored and announced on any change, the others on a new
        stage; in the `past` (an instant before the leads' latest evaluation), qualifications only; `adjust`
        may change each transition (a publication's rescore: see rescoring). The contacts stored."""
        definition = self.definition
        assert definition is not None
        live = sorted(scope.members.values(), key=lambda member: member.id)  # one order, however they were loaded
        facts = [
            ContactFacts(
                contact_id=member.id,
                email=member.email,
                attributes=contact_attributes(member),
                consent=consent_at(member, scope.touches.get(member.id, []), now),
                buying_role=member.buying_role,
                touches=scope.touches.get(member.id, []),
                cycle_started_at=lead.cycle_started_at if (lead := scope.leads.get(member.id)) else None,
            )
            for member in live
        ]
        account = account_attributes(scope.account) if scope.account else None
        verdicts = evaluate_account(definition, account, facts, now, detail_for=focus, memo=PROFILES)
        stored: set[uuid.UUID] = set()
        for member in live:
            lead = scope.leads.get(member.id)
            if past and not may_qualify_in_the_past(lead, now):
                continue
            transition = next_state(lead, verdicts[member.id], has_email=member.email is not None, now=now)
            if adjust is not None:
                transition = adjust(member.id, lead, transition, verdicts[member.id])
            if past and not transition.qualified:
                continue
            stage_moved = lead is None or transition.state.stage != lead.stage
            if not (stage_moved or (member.id in focus and transition.changed)):
                continue
            verdict = verdicts[member.id]
            if member.id not in focus:  # its explanation needs the engagement hits the quick evaluation left out
                detailed = evaluate_account(definition, account, facts, now, detail_for={member.id}, memo=PROFILES)
                verdict = detailed[member.id]
            scope.leads[member.id] = transition.state
            stored.add(member.id)
            explanation = explain(definition, verdict.score, verdict.account, verdict.decision, transition.state)
            self.writes.scored(member.id, member.account_id, transition.state, explanation, now)
            emit = _emitter(self.uow, member, scope.account, now)
            emit(emission.lead_scored(definition, member, scope.account, transition, verdict, trigger))
            if transition.qualified:
                emit(
                    emission.lead_qualified(
                        definition,
                        member,
                        scope.account,
                        transition,
                        verdict,
                        members=live,
                        leads=scope.leads,
                        touches=scope.touches,
                    )
                )
            if transition.disqualified:
                emit(emission.lead_disqualified(member, scope.account, transition, verdict))
        return stored


def _emitter(uow: UnitOfWork, member: Member, account: Account | None, now: datetime) -> Callable[[Any], None]:
    key = emission.account_key(member, account)
    return lambda data: uow.emit(new_event(data, key=key, time=now, source=SOURCE, subject=str(member.id)))


def consent_of(contact: Contact | Member) -> Consent:
    """What the contact allowed."""
    consent = contact.attributes.get("marketing_consent")
    return Consent(
        marketing_consent=consent if isinstance(consent, bool) else None,
        unsubscribed=contact.consent == "unsubscribed",
        erased=contact.erased_at is not None,
    )


def later_instants(scope: Scope, now: datetime) -> set[datetime]:
    """The instants after `now` the scope was evaluated at, that a late event changes: its touches and identifies."""
    touched = {touch.occurred_at for touches in scope.touches.values() for touch in touches}
    identified = {member.updated_at for member in scope.members.values()}
    return {instant for instant in touched | identified if instant > now}


def consent_at(member: Member, touches: Sequence[ScoringTouch], now: datetime) -> Consent:
    """What the contact allowed at `now`: an unsubscribe counts from its touch's time, whenever it arrived."""
    consent = consent_of(member)
    unsubscribes = [touch.occurred_at for touch in touches if touch.touch_type == "unsubscribe"]
    if consent.unsubscribed and unsubscribes:
        return replace(consent, unsubscribed=min(unsubscribes) <= now)
    return consent


def on_touch_recorded(batch: ScoringBatch, event: Event[TouchRecorded]) -> None:
    """A touch: match it to its contact and account, keep it, and rescore the account."""
    data = event.data
    contact = batch.contact_of(data.contact, event.time)
    if data.touch_id in batch.touch_ids:
        return  # the same touch sent again under a new event id
    batch.touch_ids.add(data.touch_id)
    batch.seen.add(("touch_type", data.touch_type))
    occurred_at = data.occurred_at or event.time
    scope = batch.scope_of(contact)  # loaded before the new touch is written, which joins it below
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
    scope.touches.setdefault(contact.id, []).append(
        ScoringTouch(
            str(data.touch_id), occurred_at, data.touch_type, data.channel, data.campaign, tuple(data.content_tags)
        )
    )
    batch.rescore(contact, max(event.time, occurred_at), event.id)


def on_contact_identified(batch: ScoringBatch, event: Event[ContactIdentified]) -> None:
    """Who a person is: contact and account attributes (the fit data) are learned, and the account rescored."""
    data = event.data
    batch.seen.update(("path", path) for name in data.traits.custom if (path := custom_path(name)))
    identity = ContactIdentity(email=data.email, external_ids=data.external_ids)
    contact = batch.resolve(identity, event.time, traits=data.traits, hint=data.account)
    batch.rescore(contact, event.time, event.id)


def on_contact_erased(batch: ScoringBatch, event: Event[ContactErased]) -> None:
    """The right to be forgotten: personal data and touches go, the lead is disqualified for good."""
    data = event.data
    contact = batch.session.get(Contact, data.contact_id) if data.contact_id else None
    if contact is None:
        emails = [normalise_email(data.email)] if data.email else []
        candidates = matching_repository.contact_candidates(batch.session, emails, external_id_pairs(data.external_ids))
        contact = batch.session.get(Contact, candidates[0].contact_id) if candidates else None
    if contact is None:
        return
    scope = batch.scope_of(contact)
    batch.known.pop(contact.email or "", None)
    contact.erased_at = event.time
    contact.email, contact.attributes, contact.pain_points = None, {}, []
    batch.writes.flush(batch.session)  # the touches of this batch go too
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
    if contact is None:
        return
    scope = batch.scope_of(contact)
    if (lead := scope.leads.get(contact.id)) is None:
        return
    action, wait_days = data.recycle.action, data.recycle.wait_days
    scope.leads[contact.id] = state = recycle(lead, action=action, wait_days=wait_days, now=event.time)
    batch.writes.recycled(contact.id, state)
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
    batch.writes.flush(uow.session)
    if batch.seen:
        known_fields.record(uow.session, batch.seen, events[-1].time)


def handlers() -> Handlers:
    """What the lead_scoring consumer group handles."""
    return Handlers(frozenset(type_name(model) for model in _BY_TYPE), handle_batch)
