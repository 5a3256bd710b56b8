"""The scoring engine: an account's leads moved on event by event. The live consumer, the rescorer and the
simulation all run it, so a simulation finds what the consumer would have done.

What is kept between events (and stored with the lead rows):
- per contact, its `Engagement` (running decayed sums, cap windows, hand-raises, first unsubscribe), its lead
  state, whether it counts in the roll-up (not disqualified) and its buying role;
- per account, its standing: whether it met the account's part of the MQL criteria (account score, buying
  committee) at its latest evaluation.

An event on a contact at `now` costs that contact, not its account:
1. the contact's engagement takes the touch (a few multiplications);
2. the account is rolled up at `now`, decaying only the contacts that can reach its top n or the engaged
   threshold: each contact's engagement has a bound (`Engagement.upper`) that holds until its next touch, and
   contacts are visited by that bound, highest first;
3. the contact is decided (`rules.decide_stage`) and moved on (`lifecycle.next_state`);
4. when the account's standing turns to met, every other contact with touches is decided again at `now`: that
   is how an event on one contact qualifies another. Other changes of the roll-up (a score that fades) move
   no other lead towards qualifying; the others are seen again at their own next event.

The roll-up counts the contacts that have touches and are not disqualified; a contact with no touch has no
engagement to count.
"""

from __future__ import annotations

import bisect
import heapq
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.scoring.engagement import CountedTouch, Engagement, Touch, TouchRules, micros
from services.lead_scoring.scoring.lifecycle import STICKY_REASONS, LeadState, Transition, Verdict, next_state
from services.lead_scoring.scoring.lifecycle import recycle as end_cycle
from services.lead_scoring.scoring.rules import (
    AccountScore,
    Consent,
    Profile,
    ProfileMemo,
    account_score,
    check_disqualifiers,
    decide_stage,
    roll_up_engagement,
    score_fit,
    score_state,
)

# A rounded score is at most half a cent above its value; a cent of margin also covers the float error of the
# running sums against their bound.
MARGIN = 0.01


@dataclass(frozen=True)
class ContactFacts:
    """What the definition reads of a contact: its attributes (as `leads.scope.contact_attributes` builds them),
    its consent (an unsubscribe counts from its touch, kept by the engagement) and whether sales can reach it."""

    contact_id: uuid.UUID
    email: str | None
    attributes: Mapping[str, Any]
    consent: Consent
    buying_role: str | None


@dataclass(eq=False)
class Lead:
    """One contact in its account's book."""

    contact_id: uuid.UUID
    engagement: Engagement = field(default_factory=Engagement)
    state: LeadState | None = None
    eligible: bool = True  # not disqualified at its latest decision: it counts in the roll-up
    role: str | None = None
    decided_at: int | None = None  # microseconds
    facts: ContactFacts | None = None  # None until needed: the other contacts of a touch are not read
    profile: Profile | None = None
    key: str = field(init=False)  # the contact id as the roll-up names it
    rank: int = field(init=False)  # orders contacts of equal bounds in the index, cheaper than the id

    def __post_init__(self) -> None:
        self.key, self.rank = str(self.contact_id), self.contact_id.int

    def out(self) -> bool:
        """True while nothing can newly qualify it: no email, already an MQL, or disqualified by a person."""
        state = self.state
        if self.facts is not None and self.facts.email is None:
            return True
        return state is not None and (
            state.stage == "mql" or (state.stage == "disqualified" and state.reason in STICKY_REASONS)
        )


@dataclass(frozen=True)
class Decision:
    """A lead decided at an instant: its verdict and where it moves; `focus` for the contact of the event."""

    contact_id: uuid.UUID
    at: datetime
    previous: LeadState | None
    verdict: Verdict
    transition: Transition
    focus: bool


FactsLoader = Callable[[list[uuid.UUID]], Mapping[uuid.UUID, ContactFacts]]


class AccountBook:
    """An account's leads (or one contact's, for a contact without an account) and its standing."""

    def __init__(
        self,
        definition: LeadDefinition,
        attributes: Mapping[str, Any] | None,
        *,
        alone: bool = False,
        standing: bool | None = None,
        memo: ProfileMemo | None = None,
        load_facts: FactsLoader | None = None,
    ) -> None:
        self.definition, self.rules = definition, TouchRules.of(definition)
        self.attributes, self.alone, self.standing = attributes, alone, standing
        self.leads: dict[uuid.UUID, Lead] = {}
        self._memo, self._load_facts = memo, load_facts
        # (-bound, rank, contact) of the counted contacts, sorted: the highest bound first
        self._index: list[tuple[float, int, uuid.UUID]] = []
        self._keys: dict[uuid.UUID, tuple[float, int, uuid.UUID]] = {}
        mql = definition.mql
        self._criteria = mql.min_account_score is not None or mql.committee_required
        roll_up = definition.account.roll_up
        self._top_n = (roll_up.n or 1_000_000_000) if roll_up.method == "sum_top_n" else 1

    @property
    def at(self) -> int | None:
        """The latest instant (microseconds) a lead of the book was decided at."""
        return max((lead.decided_at for lead in self.leads.values() if lead.decided_at is not None), default=None)

    def add(self, lead: Lead) -> Lead:
        """Put a lead in the book (loaded, or new to the account)."""
        self.leads[lead.contact_id] = lead
        self._place(lead)
        return lead

    def remove(self, contact_id: uuid.UUID) -> None:
        """Take a contact out (merged away, or moved to another account)."""
        self.leads.pop(contact_id, None)
        key = self._keys.pop(contact_id, None)
        if key is not None:
            del self._index[bisect.bisect_left(self._index, key)]

    def lead(self, contact_id: uuid.UUID) -> Lead:
        """The contact's lead, a new one if the book has none."""
        return self.leads.get(contact_id) or self.add(Lead(contact_id))

    def learn(self, facts: ContactFacts) -> Lead:
        """What the contact is now (attributes, consent, role): its profile is scored again when next needed."""
        lead = self.lead(facts.contact_id)
        lead.facts, lead.profile, lead.role = facts, None, facts.buying_role
        return lead

    def touch(self, contact_id: uuid.UUID, touch: Touch) -> list[CountedTouch]:
        """Count a touch of the contact (raises `LateTouchError` for one before its latest): what each rule counted."""
        lead = self.lead(contact_id)
        first_unsubscribe = lead.engagement.unsubscribed is None
        counted = lead.engagement.add(self.rules, touch)
        if first_unsubscribe and lead.engagement.unsubscribed is not None:
            lead.profile = None  # its consent changed
        self._place(lead)
        return counted

    def recycle(self, contact_id: uuid.UUID, *, action: str, wait_days: int | None, now: datetime) -> bool:
        """Sales sent an MQL back: its qualification cycle ends as the recycle policy says. False if it was no MQL
        (a rejection of a handoff this book never made changes nothing)."""
        lead = self.leads.get(contact_id)
        if lead is None or lead.state is None or lead.state.stage != "mql":
            return False
        lead.state = end_cycle(lead.state, action=action, wait_days=wait_days, now=now)
        return True

    def decide(self, contact_id: uuid.UUID, now: datetime, *, everyone: bool = False) -> list[Decision]:
        """Decide the contact at `now`, and the others when the account's standing turns to met (or `everyone`:
        after a change every lead depends on, such as the account's attributes). The decisions, focus first."""
        focus = self.lead(contact_id)
        self._count_if_eligible(focus)  # its own event may have disqualified it (an unsubscribe)
        if everyone:
            for lead in self.leads.values():
                self._count_if_eligible(lead)
        roll = self.roll_up(now)
        standing = self._meets(roll)
        turned = standing and not self.standing  # unknown counts as not met: the others are looked at once
        self.standing = standing
        decisions = [self._decide(focus, now, roll, focus=True)]
        if everyone or turned:
            others = [
                lead
                for lead in self.leads.values()
                if lead.contact_id != contact_id and (everyone or (lead.engagement.touches and not lead.out()))
            ]
            self._facts_for(others)
            decisions += [self._decide(lead, now, roll, focus=False) for lead in others]
        return decisions

    def _decide(self, lead: Lead, now: datetime, roll: AccountScore, *, focus: bool) -> Decision:
        at = micros(now)
        if lead.decided_at is not None and at < lead.decided_at:
            raise ValueError("a lead is decided forward only")
        state = lead.state
        score = score_state(
            self.definition, lead.engagement, self.profile(lead), now, state.cycle_started_at if state else None
        )
        if self.alone:
            roll = roll_up_engagement(
                self.definition,
                {} if score.disqualifiers else {str(lead.contact_id): score.engagement.score},
                {str(lead.contact_id): lead.role},
            )
        verdict = Verdict(score, roll, decide_stage(self.definition, score, roll, words=False))
        assert lead.facts is not None  # profile() loaded it
        transition = next_state(state, verdict, has_email=lead.facts.email is not None, now=now)
        lead.state, lead.decided_at = transition.state, at
        if lead.eligible != (not score.disqualifiers):
            lead.eligible = not score.disqualifiers
            self._place(lead)
        return Decision(lead.contact_id, now, state, verdict, transition, focus)

    def _count_if_eligible(self, lead: Lead) -> None:
        eligible = not self.profile(lead)[1]
        if lead.eligible != eligible:
            lead.eligible = eligible
            self._place(lead)

    def profile(self, lead: Lead) -> Profile:
        """The lead's fit and disqualifiers (remembered until its attributes or consent change)."""
        if lead.profile is None:
            self._facts_for([lead])
            assert lead.facts is not None
            consent = self.consent(lead)
            if self._memo is not None:
                lead.profile = self._memo.profiles(
                    self.definition, self.attributes, [(lead.facts.attributes, consent)]
                )[0]
            else:
                lead.profile = (
                    score_fit(self.definition, lead.facts.attributes, self.attributes),
                    check_disqualifiers(self.definition, lead.facts.attributes, self.attributes, consent),
                )
        return lead.profile

    def consent(self, lead: Lead) -> Consent:
        """What the contact allowed: an unsubscribe counts from its touch (or from the start, for one the facts
        know of and the engagement does not: a touch before a simulation's history)."""
        assert lead.facts is not None
        if lead.facts.consent.unsubscribed or lead.engagement.unsubscribed is None:
            return lead.facts.consent
        return replace(lead.facts.consent, unsubscribed=True)

    def _facts_for(self, leads: Iterable[Lead]) -> None:
        missing = [lead.contact_id for lead in leads if lead.facts is None]
        if not missing:
            return
        if self._load_facts is None:
            raise LookupError(f"no facts for contacts {missing[:3]}")
        found = self._load_facts(missing)
        for contact_id in missing:
            lead = self.leads[contact_id]
            lead.facts = found[contact_id]
            lead.role = lead.facts.buying_role

    def roll_up(self, now: datetime) -> AccountScore:
        """The account's roll-up at `now`: only contacts whose bound reaches the top n or the engaged threshold are
        decayed (each visited contact costs a few multiplications; the rest cost nothing)."""
        at, leads = micros(now), self.leads
        threshold, top_n = self.definition.engaged.min_engagement_score, self._top_n
        engaged: list[tuple[str, str | None]] = []
        top: list[float] = []  # the n best scores so far, a min-heap
        for negative, _, contact_id in self._index:
            bound = MARGIN - negative
            if len(top) >= top_n and bound < top[0] and bound < threshold:
                break  # no later contact can enter the top n or be engaged
            lead = leads[contact_id]
            score = lead.engagement.score(at)
            if score >= threshold:
                engaged.append((lead.key, lead.role))
            if len(top) < top_n:
                heapq.heappush(top, score)
            elif score > top[0]:
                heapq.heapreplace(top, score)
        return account_score(self.definition, top, engaged)

    def _meets(self, roll: AccountScore) -> bool:
        """Whether the account meets its part of the MQL criteria (always, when the definition asks none)."""
        if not self._criteria or self.alone:
            return True
        mql = self.definition.mql
        if mql.min_account_score is not None and roll.score < mql.min_account_score:
            return False
        return not mql.committee_required or roll.committee_met

    def _place(self, lead: Lead) -> None:
        # The index holds the counted contacts (touches, not disqualified) by their bound, highest first.
        old = self._keys.pop(lead.contact_id, None)
        if old is not None:
            del self._index[bisect.bisect_left(self._index, old)]
        if lead.eligible and lead.engagement.touches:
            key = (-lead.engagement.upper(), lead.rank, lead.contact_id)
            bisect.insort(self._index, key)
            self._keys[lead.contact_id] = key


def stored(lead: Lead, version: int | None) -> dict[str, Any]:
    """What the lead row keeps of a lead for the engine (JSON)."""
    return {
        "version": version,
        "engagement": lead.engagement.dump(),
        "eligible": lead.eligible,
        "role": lead.role,
        "decided_at": lead.decided_at,
    }


def restored(
    contact_id: uuid.UUID, state: LeadState | None, kept: Mapping[str, Any] | None, version: int | None
) -> Lead | None:
    """The lead `stored` kept, or None if it was kept under another definition version (or never)."""
    if not kept or kept.get("version") != version:
        return None
    return Lead(
        contact_id,
        Engagement.load(kept["engagement"]),
        state,
        eligible=kept["eligible"],
        role=kept["role"],
        decided_at=kept["decided_at"],
    )


@dataclass(frozen=True)
class Step:
    """One event of a replay: a touch (with what each rule counted of it) or a rejection, and the decisions."""

    contact_id: uuid.UUID
    touch: Touch | None
    counted: list[CountedTouch]
    decisions: list[Decision]


def replay(
    book: AccountBook,
    touches: Mapping[uuid.UUID, Iterable[Touch]],
    rejections: Mapping[uuid.UUID, Iterable[tuple[datetime, str | None]]],
    end: datetime | None = None,
) -> Iterator[Step]:
    """Feed a book its contacts' touches and sales' rejections (at, reason) before `end` in time order, as the
    consumer would: a touch is counted and its contact decided; a rejection ends an MQL's cycle under the
    definition's recycle policy (a reason it does not list: back to nurture at once) and decides it again. At one
    instant, touches come before rejections, and touches in scoring order."""
    events: list[tuple[datetime, int, str, uuid.UUID, Any]] = []
    for contact_id, items in touches.items():
        events += [(t.occurred_at, 0, t.touch_id, contact_id, t) for t in items if end is None or t.occurred_at < end]
    for contact_id, decisions in rejections.items():
        events += [(at, 1, "", contact_id, reason) for at, reason in decisions if end is None or at < end]
    events.sort(key=lambda event: event[:4])
    for at, kind, _, contact_id, item in events:
        if kind == 0:
            counted = book.touch(contact_id, item)
            yield Step(contact_id, item, counted, book.decide(contact_id, at))
            continue
        policy = book.definition.recycle.get(item or "")
        action, wait_days = (policy.action, policy.wait_days) if policy else ("nurture", None)
        if book.recycle(contact_id, action=action, wait_days=wait_days, now=at):
            yield Step(contact_id, None, [], book.decide(contact_id, at))
