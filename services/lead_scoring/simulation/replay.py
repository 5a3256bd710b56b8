"""One account's history replayed through the scoring engine: the qualifications the live consumer would find.

The account's touches and sales' rejections are fed to an `engine.AccountBook` in time order, as the consumer
feeds it events: a touch is counted and its contact decided (and the others when the account's standing turns
to met); a rejection ends an MQL's cycle under the definition's recycle policy and decides the contact again.
The touches of one instant come before the rejections of that instant. Contacts without an account are each a
book of their own.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from services.lead_scoring.definitions.conditions import Attributes
from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.scoring.engagement import TouchRules, micros
from services.lead_scoring.scoring.engine import AccountBook, ContactFacts, Decision, replay
from services.lead_scoring.scoring.lifecycle import LeadState
from services.lead_scoring.scoring.rules import Consent, ProfileMemo, check_disqualifiers
from services.lead_scoring.simulation.history import AccountHistory, ContactHistory, Qualification

RuleCounts = dict[str, list[int]]  # rule id -> [contacts, touches] it fired on


class Rules:
    """What the replay needs of a definition, prepared once for all its accounts."""

    def __init__(self, definition: LeadDefinition) -> None:
        self.definition = definition
        self.touch_rules = TouchRules.of(definition)
        self.memo = ProfileMemo()
        # The rules on attributes as tests, for counting the contacts each fires on: a test per rule and contact
        # costs less than scoring the fit, or remembering it (contacts rarely share a profile: their domains differ).
        conditions = [(rule.id, rule.when) for rule in definition.fit.rules]
        conditions += [(rule.id, rule.when) for rule in definition.disqualifiers if rule.when is not None]
        self._account_tests = [(rule_id, when.test) for rule_id, when in conditions if when.account_only]
        self._contact_tests = [(rule_id, when.test) for rule_id, when in conditions if not when.account_only]
        others = [rule for rule in definition.disqualifiers if rule.kind != "condition"]
        self._other_disqualifiers = definition.model_copy(update={"disqualifiers": others}) if others else None
        # Those read the contact's domain and consent only, unless a customer flag is the contact's.
        self._others_by_domain = all(
            (rule.field or "account.").startswith("account.") for rule in others if rule.kind == "existing_customer"
        )

    def fired_on(
        self, contact: Attributes, account: Attributes | None, consent: Consent, seen: dict[object, list[str]]
    ) -> list[str]:
        """The ids of the rules on attributes that fire on a contact, but those reading only its account (see
        `fired_on_account`). `seen` remembers the other disqualifiers (competitor, customer, consent) within one
        account: its contacts mostly share a domain and a consent."""
        fired = [rule_id for rule_id, test in self._contact_tests if test(contact, account) is not None]
        if self._other_disqualifiers is not None and not self._others_by_domain:
            hits = check_disqualifiers(self._other_disqualifiers, contact, account, consent)
            fired += [hit.rule_id for hit in hits if hit.rule_id]
        elif self._other_disqualifiers is not None:
            email = contact.get("email")
            # What competitor_domain, existing_customer and no_consent read of a contact of this account.
            key = (contact.get("email_domain"), email.rsplit("@", 1)[-1] if isinstance(email, str) else None, consent)
            try:
                found = seen[key]
            except (KeyError, TypeError):
                hits = check_disqualifiers(self._other_disqualifiers, contact, account, consent)
                found = [hit.rule_id for hit in hits if hit.rule_id]
                if isinstance(key[0], str | None):
                    seen[key] = found
            fired += found
        return fired

    def fired_on_account(self, account: Attributes | None) -> list[str]:
        """The ids of the fit rules and condition disqualifiers that read only the account and fire on it."""
        return [rule_id for rule_id, test in self._account_tests if test({}, account) is not None]


class HistoryReplay:
    """Feeds one account's history to the engine (scoring.engine.replay) and tallies what it finds: qualifications
    in [start, end), rule hits, final leads."""

    def __init__(self, rules: Rules, account: AccountHistory, start: datetime, end: datetime) -> None:
        self.rules, self.account, self.start, self.end = rules, account, start, end
        self.contacts = {contact.contact_id: contact for contact in account.contacts}
        self.qualifications: list[Qualification] = []
        self.leads: dict[uuid.UUID, LeadState] = {}
        self.evaluations = 0
        self.counted: Counter[str] = Counter()  # engagement rule -> touches it counted
        self.counted_by: dict[str, set[uuid.UUID]] = {}  # engagement rule -> contacts it counted touches of
        self.raises: Counter[str] = Counter()  # hand-raiser rule -> touches that raised a hand under it
        self.raisers: dict[str, set[uuid.UUID]] = {}

    def _books(self) -> Iterator[tuple[AccountBook, list[ContactHistory]]]:
        definition, memo = self.rules.definition, self.rules.memo
        if self.account.attributes is None:  # contacts without an account: each a book of its own
            for contact in self.account.contacts:
                yield AccountBook(definition, None, alone=True, memo=memo), [contact]
        else:
            yield AccountBook(definition, self.account.attributes, memo=memo), list(self.account.contacts)

    def run(self) -> list[Qualification]:
        """Replay every touch and rejection before `end`, in time order."""
        for book, contacts in self._books():
            for contact in contacts:
                book.learn(
                    ContactFacts(
                        contact.contact_id, contact.email, contact.attributes, contact.consent, contact.buying_role
                    )
                )
            touches = {contact.contact_id: contact.touches for contact in contacts}
            rejections = {
                contact.contact_id: [(o.at, o.reason) for o in contact.outcomes if o.outcome == "rejected"]
                for contact in contacts
            }
            for step in replay(book, touches, rejections, self.end):
                if step.touch is not None:
                    self._count(step.counted, step.contact_id, step.touch.touch_type)
                self._record(step.decisions)
            self.leads.update({lead.contact_id: lead.state for lead in book.leads.values() if lead.state})
        return self.qualifications

    def _count(self, counted: list[Any], contact_id: uuid.UUID, touch_type: str) -> None:
        for entry in counted:
            self.counted[entry.rule_id] += 1
            self.counted_by.setdefault(entry.rule_id, set()).add(contact_id)
        for raiser in self.rules.touch_rules.raising(touch_type):
            self.raises[raiser.id] += 1
            self.raisers.setdefault(raiser.id, set()).add(contact_id)

    def _record(self, decisions: list[Decision]) -> None:
        self.evaluations += 1
        for decision in decisions:
            if decision.transition.qualified and decision.at >= self.start:
                self.qualifications.append(self._qualification(decision))

    def _qualification(self, decision: Decision) -> Qualification:
        contact = self.contacts[decision.contact_id]
        state = decision.transition.state
        at = micros(decision.at)
        # The touch behind it: the hand-raise, or else the lead's latest touch so far.
        touched = [touch for touch in contact.touches if touch.at <= at]
        touch = max(touched, key=lambda touch: touch.order, default=None)
        if state.reason == "hand_raiser":
            raised = next(hit.touch_id for hit in decision.verdict.score.hand_raisers if hit.fit_grade_met)
            touch = next(touch for touch in contact.touches if touch.touch_id == raised)
        index = contact.touches.index(touch) if touch else -1
        return Qualification(
            contact_id=contact.contact_id,
            account_id=self.account.account_id,
            at=decision.at,
            reason=state.reason or "",
            cycle=state.qualification_cycle,
            touch_id=touch.touch_id if touch else None,
            source_system=contact.source_systems[index] if touch else None,
            channel=touch.channel if touch else None,
            campaign=touch.campaign if touch else None,
        )

    def rule_hits(self) -> RuleCounts:
        """How many of the account's contacts and touches each rule fired on, by rule id (after `run`).

        Fit and disqualifiers are taken on the attributes as they are now and the consent after the last touch.
        """
        rules, account = self.rules, self.account.attributes
        contacts: Counter[str] = Counter({rule_id: len(self.contacts) for rule_id in rules.fired_on_account(account)})
        seen: dict[object, list[str]] = {}
        for contact in self.contacts.values():
            unsubscribed = contact.consent.unsubscribed or any(
                t.touch_type == "unsubscribe" and t.occurred_at < self.end for t in contact.touches
            )
            consent = Consent(contact.consent.marketing_consent, unsubscribed, contact.consent.erased)
            contacts.update(rules.fired_on(contact.attributes, account, consent, seen))
        contacts.update({rule_id: len(counted_by) for rule_id, counted_by in self.counted_by.items()})
        counts: RuleCounts = {rule_id: [count, self.counted[rule_id]] for rule_id, count in contacts.items()}
        for rule_id, leads in self.raisers.items():
            counts[rule_id] = [len(leads), self.raises[rule_id]]
        return counts


def replay_account(
    rules: Rules, account: AccountHistory, start: datetime, end: datetime
) -> tuple[list[Qualification], int, RuleCounts, dict[uuid.UUID, LeadState]]:
    """The account's qualifications in [start, end), how many decisions finding them took, how many contacts and
    touches each rule fired on, and every lead's final state."""
    replay = HistoryReplay(rules, account, start, end)
    qualifications = replay.run()
    return qualifications, replay.evaluations, replay.rule_hits(), replay.leads
