"""The state one batch of lead_scoring's events works on: the books of the accounts it touches, loaded once, and
the touch and lead rows it writes.

Each account's `AccountBook` (scoring.engine) is built from the stored lead rows: their states and the engine's
running state, with no touch and no other contact read. A lead stored under another definition version (or before
the engine kept its state) has its engagement rebuilt from its touches. A contact's touches are read only to
explain its score.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventlog.unit_of_work import UnitOfWork
from events.catalog.common import AccountHint, ContactTraits
from events.catalog.touches import TouchRecorded
from events.registry import Event, new_event
from services.lead_scoring import repository
from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.leads import emission
from services.lead_scoring.leads.scope import (
    Member,
    Scope,
    StoredLead,
    Writes,
    account_attributes,
    contact_attributes,
    leads_of_accounts,
    leads_of_contacts,
    members,
    members_of_accounts,
    members_without_account,
    rejections_of,
)
from services.lead_scoring.matching import repository as matching_repository
from services.lead_scoring.matching.domain import Identity
from services.lead_scoring.matching.resolve import resolve_contact
from services.lead_scoring.models import Account, Contact
from services.lead_scoring.scoring.engagement import Engagement, EngagementLedger, TouchRules, instant, micros
from services.lead_scoring.scoring.engine import AccountBook, ContactFacts, Decision, Lead, replay, restored, stored
from services.lead_scoring.scoring.explanation import explain
from services.lead_scoring.scoring.lifecycle import Transition, Verdict, may_qualify_in_the_past, next_state
from services.lead_scoring.scoring.rules import Consent, ProfileMemo, decide_stage, score_contact

SOURCE = "lead_scoring"
PROFILES = ProfileMemo()  # shared by the consumer and the rescorer of this process
ScopeKey = tuple[str, uuid.UUID]
COMMITTEE = 50  # members of the buying committee a lead.qualified names at most
# A change to a decision's transition (a publication's policy for open MQLs: see rescoring).
Adjust = Callable[[Decision], Transition]


def consent_of(contact: Contact | Member) -> Consent:
    """What the contact allowed; an unsubscribe is a touch, counted from its time by the engine (see
    `AccountBook.consent`), so it is not read here."""
    consent = contact.attributes.get("marketing_consent")
    return Consent(
        marketing_consent=consent if isinstance(consent, bool) else None, erased=contact.erased_at is not None
    )


def facts_of(contact: Contact | Member) -> ContactFacts:
    """What the definition reads of a contact."""
    return ContactFacts(
        contact.id, contact.email, contact_attributes(contact), consent_of(contact), contact.buying_role
    )


@dataclass
class ScoringBatch:
    """The books one batch of events works on and the rows it writes."""

    uow: UnitOfWork
    definition: LeadDefinition | None
    scopes: dict[ScopeKey, Scope] = field(default_factory=dict)
    placed: dict[uuid.UUID, ScopeKey] = field(default_factory=dict)  # a moved contact is taken out of the old one
    ledgers: dict[uuid.UUID, EngagementLedger] = field(default_factory=dict)  # touches of contacts to explain
    rebuild: set[uuid.UUID] = field(default_factory=set)  # contacts whose touches changed under them (merges)
    # Contacts matching touched (moved, merged, created): their lead is read again when next needed.
    reread: set[uuid.UUID] = field(default_factory=set)
    touch_ids: set[uuid.UUID] = field(default_factory=set)
    # Contacts of this batch by normalised email, each with its account settled: no query needed for them.
    known: dict[str, Contact] = field(default_factory=dict)
    identities: dict[uuid.UUID, Identity] = field(default_factory=dict)  # by event id: each built once (identity_of)
    writes: Writes = field(default_factory=Writes)
    snapshots: dict[uuid.UUID, Member] = field(default_factory=dict)  # contacts as last read, for the events
    # Touch types and custom field paths of the batch, for the warnings on definitions (known_fields).
    seen: set[tuple[str, str]] = field(default_factory=set)

    @property
    def session(self) -> Any:
        """The unit of work's session."""
        return self.uow.session

    def prefetch(self, touches: Sequence[Event[TouchRecorded]]) -> None:
        """Load in a few queries what the batch's touches need: their contacts and their accounts' books."""
        self.touch_ids |= repository.existing_touch_ids(self.session, [touch.data.touch_id for touch in touches])
        emails = {email for touch in touches if (email := self.identity_of(touch).email)}
        contacts = matching_repository.contacts_by_email(self.session, emails)
        self.known.update({contact.email: contact for contact in contacts if contact.email and contact.account_id})
        self.load_scopes({contact.account_id for contact in contacts if contact.account_id})
        self._read_touches([contact.id for contact in contacts if contact.id not in self.ledgers])

    def load_scopes(self, keys: Collection[uuid.UUID], *, everyone: bool = False) -> list[Scope]:
        """The scopes of these accounts, or of these contacts for those without one, in a few queries; `everyone`:
        with a lead for every live contact (the rescorer decides them all), not only those stored."""
        assert self.definition is not None
        wanted = set(keys) - {key for _, key in self.scopes}
        accounts = repository.accounts(self.session, wanted)
        alone = members_without_account(self.session, wanted - {account.id for account in accounts})
        of_accounts = leads_of_accounts(self.session, [account.id for account in accounts])
        of_contacts = leads_of_contacts(self.session, [member.id for member in alone])
        groups: list[tuple[ScopeKey, Account | None, dict[uuid.UUID, StoredLead]]] = [
            (("account", account.id), account, of_accounts.get(account.id, {})) for account in accounts
        ]
        for member in alone:
            own = of_contacts.get(member.id)
            groups.append((("contact", member.id), None, {member.id: own} if own else {}))
        stale: list[tuple[AccountBook, uuid.UUID]] = []
        for key, account, leads in groups:
            book = self._book(account, alone=account is None)
            for contact_id, (state, kept) in leads.items():
                lead = restored(contact_id, state, kept, self.definition.version)
                if lead is None or contact_id in self.rebuild:
                    stale.append((book, contact_id))
                    lead = Lead(contact_id, state=state)
                book.add(lead)
                self.placed[contact_id] = key
            self.scopes[key] = Scope(account, book)
        read = [contact_id for _, contact_id in stale]
        if everyone:
            found = members_of_accounts(self.session, [account.id for account in accounts])
            for member in [*alone, *(m for group in found.values() for m in group)]:
                key = ("account", member.account_id) if member.account_id else ("contact", member.id)
                self.scopes[key].book.learn(facts_of(member))
                self.snapshots[member.id] = member
                self.placed[member.id] = key
                read.append(member.id)  # every lead is explained: read every contact's touches at once
        self._read_touches(read)
        self._rebuild(stale)
        return [scope for key in keys for kind in ("account", "contact") if (scope := self.scopes.get((kind, key)))]

    def _book(self, account: Account | None, *, alone: bool) -> AccountBook:
        assert self.definition is not None
        standing = account.standing if account and account.standing_version == self.definition.version else None
        attributes = account_attributes(account) if account else None
        return AccountBook(
            self.definition, attributes, alone=alone, standing=standing, memo=PROFILES, load_facts=self._facts
        )

    def _facts(self, contact_ids: list[uuid.UUID]) -> Mapping[uuid.UUID, ContactFacts]:
        self.writes.flush(self.session)
        found = members(self.session, contact_ids)
        self.snapshots.update({member.id: member for member in found})
        return {member.id: facts_of(member) for member in found}

    def _read_touches(self, contact_ids: Collection[uuid.UUID]) -> None:
        """Read these contacts' touches in one query, as ledgers (see `ledger`)."""
        if not contact_ids or self.definition is None:
            return
        self.writes.flush(self.session)
        rules = TouchRules.of(self.definition)
        history = repository.touches_of(self.session, list(contact_ids))
        for contact_id in contact_ids:
            self.ledgers[contact_id] = EngagementLedger(rules=rules).extend(history.get(contact_id, ()))

    def _rebuild(self, stale: list[tuple[AccountBook, uuid.UUID]]) -> None:
        """Count again the touches of leads whose engine state is missing or stale (their ledgers are read)."""
        for book, contact_id in stale:
            lead = book.leads[contact_id]
            lead.engagement = self.ledger(book, contact_id).state.copy()
            lead.decided_at = lead.engagement.ref if lead.engagement.touches else None
            lead.profile = None
            lead.eligible = not book.profile(lead)[1]
            book.add(lead)
            self.rebuild.discard(contact_id)

    def identity_of(self, touch: Event[TouchRecorded]) -> Identity:
        """Who the touch names, its email normalised once per event (the prefetch and the handler share it)."""
        identity = self.identities.get(touch.id)
        if identity is None:
            identity = self.identities[touch.id] = Identity.of(touch.data.contact)
        return identity

    def contact_of(self, identity: Identity, now: datetime) -> Contact:
        """The contact behind a touch's identity: from the batch's prefetch when the email says it all."""
        email, quiet = identity.email, not identity.external_ids
        if email and quiet and (contact := self.known.get(email)) is not None:
            return contact
        return self.resolve(identity, now)

    def resolve(
        self,
        identity: Identity,
        now: datetime,
        traits: ContactTraits | None = None,
        hint: AccountHint | None = None,
    ) -> Contact:
        """Match an identity. Matching may merge duplicates (deleting their leads, moving their touches to the
        survivor) and move a contact to an account: the batch's rows are stored first, and the contacts involved
        are read again when next needed."""
        self.writes.flush(self.session)
        contact = resolve_contact(self.session, identity, now, traits=traits, hint=hint)
        merged = matching_repository.merged_into(self.session, contact.id)
        if merged:
            self.known = {email: known for email, known in self.known.items() if known.id not in merged}
            self.rebuild.add(contact.id)
        self.forget({contact.id, *merged})
        self.reread.add(contact.id)
        return contact

    def forget(self, contact_ids: set[uuid.UUID]) -> None:
        """Take contacts out of their books: they are loaded again when next needed."""
        for contact_id in contact_ids:
            self.ledgers.pop(contact_id, None)
            key = self.placed.pop(contact_id, None)
            if key is not None and (scope := self.scopes.get(key)) is not None:
                scope.book.remove(contact_id)

    def scope_of(self, contact: Contact) -> Scope:
        """The loaded scope the contact is decided in, knowing the contact as it is now; one new to it joins it."""
        key = ("account", contact.account_id) if contact.account_id else ("contact", contact.id)
        if self.placed.get(contact.id) != key:
            if key not in self.scopes:
                self.writes.flush(self.session)  # what is read from the database must be current
                self.load_scopes({key[1]})
            if self.placed.get(contact.id) != key:
                if key not in self.scopes:  # a contact without an account and no lead yet
                    self.scopes[key] = Scope(None, self._book(None, alone=True))
                old = self.placed.pop(contact.id, None)
                if old is not None and old in self.scopes:
                    self.scopes[old].book.remove(contact.id)
                book = self.scopes[key].book
                if contact.id in self.reread:  # its stored lead may hold what matching changed
                    self.writes.flush(self.session)
                    self._join(book, contact.id)
                    self.reread.discard(contact.id)
                else:  # its account's leads are all loaded: it has none yet
                    book.add(Lead(contact.id))
                self.placed[contact.id] = key
        scope = self.scopes[key]
        self.snapshots[contact.id] = snapshot = Member.of(contact)
        facts = facts_of(snapshot)
        lead = scope.book.leads.get(contact.id)
        if lead is None or lead.facts != facts:
            scope.book.learn(facts)
        return scope

    def _join(self, book: AccountBook, contact_id: uuid.UUID) -> None:
        assert self.definition is not None
        kept = leads_of_contacts(self.session, [contact_id]).get(contact_id)
        if kept is None:
            book.add(Lead(contact_id))
            return
        lead = restored(contact_id, kept[0], kept[1], self.definition.version)
        if lead is None or contact_id in self.rebuild:
            book.add(Lead(contact_id, state=kept[0]))
            self.ledgers.pop(contact_id, None)
            self._rebuild([(book, contact_id)])
        else:
            book.add(lead)

    def ledger(self, book: AccountBook, contact_id: uuid.UUID) -> EngagementLedger:
        """The contact's touches with caps applied, for the explanation of its score."""
        ledger = self.ledgers.get(contact_id)
        if ledger is None:
            self.writes.flush(self.session)  # the batch's own touches of the contact are read with the others
            touches = repository.touches_of(self.session, [contact_id]).get(contact_id, [])
            ledger = self.ledgers[contact_id] = EngagementLedger(rules=book.rules).extend(touches)
        return ledger

    def not_before(self, scope: Scope, now: datetime) -> datetime:
        """`now`, or the account's latest instant if that is later: an identify, an insight or a decision of sales
        happens now as far as the account's leads go (never in a past already scored)."""
        at = scope.book.at
        return instant(at) if at is not None and micros(now) < at else now

    def account_changed(self, scope: Scope) -> bool:
        """Whether the account's attributes changed since its book was loaded (then every fit may change)."""
        if scope.account is None:
            return False
        attributes = account_attributes(scope.account)
        if attributes == scope.book.attributes:
            return False
        scope.book.attributes = attributes
        for lead in scope.book.leads.values():
            lead.profile = None
        return True

    def forget_touches(self, scope: Scope, contact_id: uuid.UUID) -> None:
        """The contact's touches were deleted (erased): its engagement starts again from nothing."""
        lead = scope.book.lead(contact_id)
        lead.engagement = Engagement()
        scope.book.add(lead)
        self.ledgers.pop(contact_id, None)

    def decide(
        self,
        scope: Scope,
        contact: Contact,
        now: datetime,
        trigger: uuid.UUID | None,
        *,
        everyone: bool = False,
    ) -> None:
        """Decide the contact at `now` (not before what its account knows), store and announce what changed."""
        now = self.not_before(scope, now)
        self.store(scope, scope.book.decide(contact.id, now, everyone=everyone), trigger)

    def store(
        self,
        scope: Scope,
        decisions: Sequence[Decision],
        trigger: uuid.UUID | None,
        *,
        adjust: Adjust | None = None,
        every_change: bool = False,
    ) -> None:
        """Store every decided lead with its explanation; announce a lead whose stage moved, or the contact of the
        event (or any lead, `every_change`) whose scores changed. `adjust` may change each transition (a
        publication's rescore)."""
        assert self.definition is not None
        definition, book = self.definition, scope.book
        for decision in decisions:
            transition = adjust(decision) if adjust else decision.transition
            lead = book.leads[decision.contact_id]
            lead.state = transition.state
            verdict = self._detailed(book, lead, decision)
            explanation = explain(definition, verdict.score, verdict.account, verdict.decision, transition.state)
            account_id = scope.account.id if scope.account else None
            self.writes.scored(
                lead.contact_id,
                account_id,
                transition.state,
                explanation,
                decision.at,
                stored(lead, definition.version),
            )
            moved = decision.previous is None or transition.state.stage != decision.previous.stage
            if moved or ((decision.focus or every_change) and transition.changed):
                self._announce(scope, lead, transition, verdict, decision.at, trigger)

    def _detailed(self, book: AccountBook, lead: Lead, decision: Decision) -> Verdict:
        # The verdict with every engagement hit and in words, for the explanation and the events.
        assert self.definition is not None
        assert lead.facts is not None
        decided = decision.verdict.score  # fit and disqualifiers as they were at the decision
        score = score_contact(
            self.definition,
            contact=lead.facts.attributes,
            account=book.attributes,
            touches=self.ledger(book, lead.contact_id),
            consent=lead.facts.consent,
            now=decision.at,
            cycle_started_at=decision.transition.state.cycle_started_at,
            fit=decided.fit,
            disqualifiers=decided.disqualifiers,
        )
        roll_up = decision.verdict.account
        return Verdict(score, roll_up, decide_stage(self.definition, score, roll_up))

    def _announce(
        self,
        scope: Scope,
        lead: Lead,
        transition: Transition,
        verdict: Verdict,
        now: datetime,
        trigger: uuid.UUID | None,
    ) -> None:
        assert self.definition is not None
        member = self.snapshots.get(lead.contact_id) or members(self.session, [lead.contact_id])[0]
        emit = _emitter(self.uow, member, scope.account, now)
        emit(emission.lead_scored(self.definition, member, scope.account, transition, verdict, trigger))
        if transition.qualified:
            book = scope.book
            team = self._committee(scope, lead.contact_id)
            emit(
                emission.lead_qualified(
                    self.definition,
                    member,
                    scope.account,
                    transition,
                    verdict,
                    members=team,
                    leads={cid: other.state for cid, other in book.leads.items() if other.state},
                    touches=self.ledger(book, lead.contact_id).touches,
                    last_touch_at={
                        cid: instant(other.engagement.last[0]) if other.engagement.last else None
                        for cid, other in book.leads.items()
                    },
                )
            )
        if transition.disqualified:
            emit(emission.lead_disqualified(member, scope.account, transition, verdict))

    def _team(self, scope: Scope, contact_id: uuid.UUID) -> list[Member]:
        # Every live contact of the account, or the contact alone.
        self.writes.flush(self.session)
        if scope.account is None:
            return members(self.session, [contact_id])
        return members_of_accounts(self.session, [scope.account.id]).get(scope.account.id, [])

    def _committee(self, scope: Scope, contact_id: uuid.UUID) -> list[Member]:
        # The dossier's buying committee: the account's contacts with a buying role, then the most engaged, at most
        # COMMITTEE (an account of thousands of contacts must not make an event of megabytes).
        if scope.account is None:
            return []
        ranked = sorted(  # engagement by its bound: a lead's score at `now` may not be known yet (a late replay)
            (lead for lead in scope.book.leads.values() if lead.contact_id != contact_id),
            key=lambda lead: (lead.role is None, -lead.engagement.upper()),
        )
        chosen = [lead.contact_id for lead in ranked[:COMMITTEE]]
        self.writes.flush(self.session)
        return sorted(members(self.session, chosen), key=lambda member: chosen.index(member.id))

    def replay_late(self, scope: Scope, contact_id: uuid.UUID, late: datetime, trigger: uuid.UUID | None) -> None:
        """A touch older than what its account knows: the account's history is replayed in time order with it.

        Producers partitioning by another hash put an account's events on two partitions, read by two consumers,
        so events arrive out of time order. The replay finds the qualifications that handling them in time order
        would have made from `late` on; each is stored and announced at its instant, unless the lead qualified or
        was disqualified since (`may_qualify_in_the_past`). The book then holds the engagement of the history in
        time order, and the touched contact is decided at its latest instant.
        """
        assert self.definition is not None
        self.writes.flush(self.session)
        book = scope.book
        team = self._team(scope, contact_id)
        shadow = self._book(scope.account, alone=book.alone)
        shadow.standing = None
        for member in team:
            facts = shadow.learn(facts_of(member)).facts
            lead = book.lead(member.id)
            if lead.facts is None:
                lead.facts = facts
        ids = [member.id for member in team]
        touches = repository.touches_of(self.session, ids)
        last: dict[uuid.UUID, Decision] = {}  # each lead's latest decision from `late` on, in time order
        past: list[Decision] = []
        for step in replay(shadow, touches, rejections_of(self.session, ids)):
            for decision in step.decisions:
                if decision.at >= late:
                    last[decision.contact_id] = decision
                    if decision.transition.qualified:
                        past.append(decision)
        for contact, kept in shadow.leads.items():
            lead = book.lead(contact)
            lead.engagement, lead.eligible, lead.role = kept.engagement, kept.eligible, kept.role
            lead.facts, lead.profile = kept.facts, kept.profile
            lead.decided_at = max(lead.decided_at or 0, kept.decided_at or 0) or None
            book.add(lead)
            self.ledgers.pop(contact, None)
        book.standing = shadow.standing
        for decision in past:
            self._qualify_in_the_past(scope, decision, trigger)
        # Each lead decided since `late` ends as its latest decision in time order left it (from its state now).
        final = []
        for decision in last.values():
            lead = book.leads[decision.contact_id]
            assert lead.facts is not None
            has_email = lead.facts.email is not None
            transition = next_state(lead.state, decision.verdict, has_email=has_email, now=decision.at)
            focus = decision.contact_id == contact_id
            final.append(Decision(decision.contact_id, decision.at, lead.state, decision.verdict, transition, focus))
        self.store(scope, final, trigger)

    def _qualify_in_the_past(self, scope: Scope, decision: Decision, trigger: uuid.UUID | None) -> None:
        lead = scope.book.leads.get(decision.contact_id)
        current = lead.state if lead else None
        if lead is None or lead.facts is None or not may_qualify_in_the_past(current, decision.at):
            return
        transition = next_state(current, decision.verdict, has_email=lead.facts.email is not None, now=decision.at)
        if transition.qualified:
            past = Decision(decision.contact_id, decision.at, current, decision.verdict, transition, focus=False)
            self.store(scope, [past], trigger)

    def flush_standings(self) -> None:
        """Keep each account's standing, for the next batch's flips."""
        assert self.definition is not None
        for scope in self.scopes.values():
            account = scope.account
            if account is not None and (
                account.standing != scope.book.standing or account.standing_version != self.definition.version
            ):
                account.standing, account.standing_version = scope.book.standing, self.definition.version


def _emitter(uow: UnitOfWork, member: Member, account: Account | None, now: datetime) -> Callable[[Any], None]:
    key = emission.account_key(member, account)
    return lambda data: uow.emit(new_event(data, key=key, time=now, source=SOURCE, subject=str(member.id)))
