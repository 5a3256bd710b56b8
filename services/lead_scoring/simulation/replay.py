"""One account's history replayed through a lead definition: the qualification moments the live consumer would find.

The moments of an account are the distinct times of its touches and of sales' rejections. At a moment the
account's contacts are scored, rolled up and staged as `lifecycle.evaluate_account` does and every lead is
moved on with `lifecycle.next_state`, unless no lead can newly qualify at it (see `simulation` for why
skipping such a moment is exact). Whether a lead can qualify is over-estimated from running decayed sums of
its counted engagement points: adding a touch costs a few multiplications, where scoring a contact costs a
decay per past touch, for every contact of the account at every moment.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.lead_scoring.definitions.conditions import Attributes
from services.lead_scoring.definitions.document import LeadDefinition, grade_at_least
from services.lead_scoring.scoring.engagement import EngagementLedger, Touch
from services.lead_scoring.scoring.lifecycle import STICKY_REASONS, LeadState, Verdict, next_state
from services.lead_scoring.scoring.lifecycle import recycle as end_cycle
from services.lead_scoring.scoring.rules import (
    Consent,
    DisqualifierHit,
    FitResult,
    check_disqualifiers,
    decide_stage,
    roll_up_engagement,
    score_contact,
    score_fit,
)
from services.lead_scoring.simulation.history import AccountHistory, ContactHistory, Outcome, Qualification

SECONDS_PER_DAY = 86_400.0
# Above the 0.005 of rounding a score to 2 decimals; plus 1e-9 of a lead's absolute points for the drift of
# the running sums (each update errs by ~1e-16 of them).
MARGIN = 0.01
DRIFT = 1e-9
SLACK_S = 1.0  # float seconds since 1970 err by microseconds; a second more only costs an evaluation


class _Lead:
    """One contact in the replay: its lifecycle state, consent, and running sums of its counted engagement points."""

    __slots__ = (
        "consent", "constant", "contact", "counted", "disqualifiers", "fit", "ledger", "mass", "next_entry", "out",
        "raised", "raised_any", "ref", "seen", "state", "sums", "until",
    )  # fmt: skip

    def __init__(self, contact: ContactHistory, ledger: EngagementLedger, raisers: int) -> None:
        self.contact, self.ledger, self.counted, self.consent = contact, ledger, ledger.counted, contact.consent
        self.state: LeadState | None = None
        self.fit: FitResult | None = None  # scored when first needed: most leads never come near qualifying
        self.disqualifiers: tuple[DisqualifierHit, ...] | None = None
        self.out = contact.email is None  # True while it cannot newly qualify, whatever its scores
        self.raised = [-math.inf] * raisers  # the latest hand-raise per hand-raiser rule in the current cycle
        self.raised_any = False
        self.next_entry = self.seen = 0
        self.ref, self.constant, self.mass = 0.0, 0.0, 0.0
        self.sums: dict[float, float] = {}  # half-life in days -> decayed sum of counted points at `ref`
        self.until = -math.inf

    def engagement(self, now_s: float) -> float:
        """The running estimate of the engagement score at `now_s` (seconds since 1970)."""
        age_days = (now_s - self.ref) / SECONDS_PER_DAY
        decayed: float = sum(total * 0.5 ** (age_days / half_life) for half_life, total in self.sums.items())
        return self.constant + decayed

    def margin(self) -> float:
        """How far the estimate may be from the rounded score."""
        return MARGIN + DRIFT * self.mass

    def raise_until(self, rules: Rules) -> float:
        """Until when (seconds since 1970) a hand-raise of the current cycle qualifies it; as if it fitted, while
        its fit is not scored."""
        if not self.raised_any:
            return -math.inf
        grade = self.fit.grade if self.fit else None
        return max(
            (
                raised + valid
                for raised, (valid, minimum) in zip(self.raised, rules.raisers, strict=True)
                if raised > -math.inf and (grade is None or grade_at_least(grade, minimum))
            ),
            default=-math.inf,
        )

    def may_requalify(self, at: datetime) -> bool:
        """False while the recycle policy holds the lead back."""
        until = self.state.recycled_until if self.state else None
        return until is None or at >= until


class Rules:
    """What the replay needs of a definition, prepared once for all its accounts."""

    def __init__(self, definition: LeadDefinition) -> None:
        self.definition = definition
        self.half_lives = EngagementLedger.start(definition).half_lives()
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
        self.raisers = [(_seconds(rule.within_days), rule.min_fit_grade) for rule in definition.hand_raisers]
        self._raiser_kinds = [
            frozenset(kind.casefold() for kind in rule.touch_types) for rule in definition.hand_raisers
        ]
        self._raising: dict[str, tuple[int, ...]] = {}
        mql = definition.mql
        self.mql_grade, self.mql_engagement = mql.min_fit_grade, mql.min_engagement_score
        self.mql_account = mql.min_account_score
        self.engaged = definition.engaged.min_engagement_score
        self.committee = definition.account.committee if mql.committee_required else None
        roll_up = definition.account.roll_up
        self.top_n = roll_up.n if roll_up.method == "sum_top_n" and roll_up.n else 1

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

    def raising(self, touch_type: str) -> tuple[int, ...]:
        """The hand-raiser rules (by position) a touch type raises a hand under."""
        positions = self._raising.get(touch_type)
        if positions is None:
            kind = touch_type.casefold()
            positions = tuple(i for i, kinds in enumerate(self._raiser_kinds) if kind in kinds)
            self._raising[touch_type] = positions
        return positions


class AccountReplay:
    """Replays one account's history; `run` gives its qualifications in [start, end)."""

    def __init__(self, rules: Rules, account: AccountHistory, start: datetime, end: datetime) -> None:
        self.rules, self.definition = rules, rules.definition
        self.account, self.start, self.end = account, start, end
        self.leads = [self._lead(contact) for contact in account.contacts]
        self.horizon = max((lead.until for lead in self.leads if not lead.out), default=-math.inf)
        self.qualifications: list[Qualification] = []
        self.evaluations = 0
        self.raisers: dict[int, set[int]] = {}  # hand-raiser position -> the leads (by id) whose hand it raised
        self.raises: Counter[int] = Counter()

    def _lead(self, contact: ContactHistory) -> _Lead:
        touches = [touch for touch in contact.touches if touch.occurred_at < self.end]
        lead = _Lead(contact, EngagementLedger.start(self.definition).extend(touches), len(self.rules.raisers))
        lead.until = self._until(lead)
        return lead

    def run(self) -> list[Qualification]:
        """Replay every moment before `end`, in time order."""
        events: list[tuple[datetime, int, int, Any]] = []
        for index, lead in enumerate(self.leads):
            events.extend((touch.occurred_at, 0, index, touch) for touch in lead.ledger.touches)
            events.extend(
                (outcome.at, 1, index, outcome)
                for outcome in lead.contact.outcomes
                if outcome.outcome == "rejected" and outcome.at < self.end
            )
        events.sort(key=lambda event: (event[0], event[1], event[2]))
        position = 0
        while position < len(events):
            at = events[position][0]
            now_s = at.timestamp()
            touched = False
            rejected: list[tuple[_Lead, Any]] = []
            while position < len(events) and events[position][0] == at:
                _, kind, index, item = events[position]
                if kind == 0:
                    self._touch(self.leads[index], item, now_s)
                    touched = True
                else:
                    rejected.append((self.leads[index], item))
                position += 1
            if touched:  # the touches of an instant count before sales' decisions at that instant
                self._moment(at, now_s)
            if rejected:
                for lead, outcome in rejected:
                    self._reject(lead, outcome)
                self._moment(at, now_s)
        return self.qualifications

    def _touch(self, lead: _Lead, touch: Touch, now_s: float) -> None:
        lead.seen += 1
        if touch.touch_type == "unsubscribe":  # as the consumer records it
            lead.consent = replace(lead.consent, unsubscribed=True)
            lead.disqualifiers = None
        for position in self.rules.raising(touch.touch_type):
            lead.raised[position] = now_s
            lead.raised_any = True
            self.raises[position] += 1
            self.raisers.setdefault(position, set()).add(id(lead))
        if lead.sums and now_s != lead.ref:  # decay the running sums to now before adding
            age_days = (now_s - lead.ref) / SECONDS_PER_DAY
            lead.sums = {half_life: total * 0.5 ** (age_days / half_life) for half_life, total in lead.sums.items()}
        lead.ref = now_s
        counted, at, half_lives = lead.counted, touch.occurred_at, self.rules.half_lives
        while lead.next_entry < len(counted) and counted[lead.next_entry].touch.occurred_at <= at:
            entry = counted[lead.next_entry]
            lead.next_entry += 1
            lead.mass += abs(entry.counted_points)
            half_life = half_lives[entry.rule_id]
            if half_life is None:
                lead.constant += entry.counted_points
            else:
                lead.sums[half_life] = lead.sums.get(half_life, 0.0) + entry.counted_points
        if not lead.out:  # a lead that cannot qualify needs no bound
            lead.until = self._until(lead)
            self.horizon = max(self.horizon, lead.until)

    def _until(self, lead: _Lead) -> float:
        """Until when (seconds since 1970) the lead might qualify with no touch of its own; as if it fitted,
        while its fit is not scored."""
        rules, grade = self.rules, lead.fit.grade if lead.fit else None
        until = lead.raise_until(rules)
        if grade is None or grade_at_least(grade, rules.mql_grade):
            target = rules.mql_engagement - lead.margin()
            if lead.constant >= target:
                return math.inf
            # engagement <= constant + (sum of the positive sums) * 0.5 ** (age / the longest of their half-lives)
            positive, longest = 0.0, 0.0
            for half_life, total in lead.sums.items():
                if total > 0:
                    positive += total
                    longest = max(longest, half_life)
            if positive >= target - lead.constant:
                ratio = positive / (target - lead.constant)
                until = max(until, lead.ref + longest * SECONDS_PER_DAY * math.log2(ratio))
        return until + SLACK_S

    def _resolve(self, lead: _Lead, *, fit: bool = True) -> None:
        """Score the lead's fit and disqualifiers if not done yet, and see whether it can still newly qualify."""
        account = self.account.attributes
        if fit and lead.fit is None:
            lead.fit = score_fit(self.definition, lead.contact.attributes, account)
        if lead.disqualifiers is None:
            lead.disqualifiers = check_disqualifiers(self.definition, lead.contact.attributes, account, lead.consent)
        state = lead.state
        lead.out = (
            lead.contact.email is None
            or bool(lead.disqualifiers)
            or (state is not None and state.stage == "mql")
            or (state is not None and state.stage == "disqualified" and state.reason in STICKY_REASONS)
        )
        lead.until = self._until(lead)

    def _reject(self, lead: _Lead, outcome: Outcome) -> None:
        if lead.state is None or lead.state.stage != "mql":
            return  # sales rejected a handoff this definition never made
        policy = self.definition.recycle.get(outcome.reason or "")
        action, wait_days = (policy.action, policy.wait_days) if policy else ("nurture", None)
        lead.state = end_cycle(lead.state, action=action, wait_days=wait_days, now=outcome.at)
        lead.raised = [-math.inf] * len(self.rules.raisers)  # hand-raises of the past cycle no longer count
        lead.raised_any = False
        self._resolve(lead)
        self.horizon = math.inf  # recomputed at the next moment

    def _moment(self, at: datetime, now_s: float) -> None:
        if now_s > self.horizon:
            return
        candidates, horizon = [], -math.inf
        for lead in self.leads:
            if not lead.out and lead.until >= now_s:
                self._resolve(lead)  # its fit and disqualifiers may rule it out, or shorten its `until`
                if not lead.out and lead.until >= now_s and lead.may_requalify(at):
                    candidates.append(lead)
            if not lead.out:
                horizon = max(horizon, lead.until)
        self.horizon = horizon
        if candidates and self._possibly_qualifies(candidates, now_s):
            self._evaluate(at, candidates)

    def _possibly_qualifies(self, candidates: list[_Lead], now_s: float) -> bool:
        """False only if no candidate can be an MQL now: every estimate is taken at its most favourable."""
        upper: dict[int, float] | None = None
        for lead in candidates:
            assert lead.fit is not None  # resolved by _moment
            if lead.raise_until(self.rules) + SLACK_S >= now_s:
                return True
            if not grade_at_least(lead.fit.grade, self.rules.mql_grade):
                continue
            if lead.engagement(now_s) + lead.margin() < self.rules.mql_engagement:
                continue
            if upper is None:
                upper = {}
                for other in self.leads:
                    if other.disqualifiers is None:
                        self._resolve(other, fit=False)
                    if not other.disqualifiers:  # disqualified contacts count for nothing in the roll-up
                        upper[id(other)] = other.engagement(now_s) + other.margin()
            if self._account_may_qualify(upper):
                return True
        return False

    def _account_may_qualify(self, upper: dict[int, float]) -> bool:
        rules = self.rules
        if rules.mql_account is not None:
            top = sorted(upper.values(), reverse=True)[: rules.top_n]
            if math.fsum(top) + MARGIN < rules.mql_account:
                return False
        committee = rules.committee
        if committee is None:
            return True
        engaged = [lead for lead in self.leads if upper.get(id(lead), -math.inf) >= rules.engaged]
        roles = {lead.contact.buying_role for lead in engaged}
        checks = []
        if committee.required_roles:
            checks.append(all(role in roles for role in committee.required_roles))
        if committee.min_engaged_contacts:
            checks.append(len(engaged) >= committee.min_engaged_contacts)
        return all(checks) if committee.require == "all" else (not checks or any(checks))

    def _evaluate(self, at: datetime, candidates: list[_Lead]) -> None:
        """Stage the candidates as lifecycle.evaluate_account does, and move them on with next_state.

        The other leads cannot newly qualify now, and a verdict on them would change nothing that matters later
        (see `simulation`): they count only in the roll-up, by their exact engagement score.
        """
        self.evaluations += 1
        definition, account = self.definition, self.account.attributes
        scores = {
            id(lead): score_contact(
                definition,
                contact=lead.contact.attributes,
                account=account,
                touches=lead.ledger,  # its entries after `at` do not count at `at`
                consent=lead.consent,
                now=at,
                cycle_started_at=lead.state.cycle_started_at if lead.state else None,
                detail=False,
                fit=lead.fit,
                disqualifiers=lead.disqualifiers,
            )
            for lead in candidates
        }
        engagement: dict[str, float] = {}
        for lead in self.leads:
            self._resolve(lead, fit=False)
            if not lead.disqualifiers:  # disqualified contacts count for nothing in the roll-up
                score = scores.get(id(lead))
                engagement[str(lead.contact.contact_id)] = (
                    score.engagement.score if score else lead.ledger.score_only_at(at)
                )
        roles = {str(lead.contact.contact_id): lead.contact.buying_role for lead in self.leads}
        shared = roll_up_engagement(definition, engagement, roles) if account is not None else None
        for lead in candidates:
            contact_id = str(lead.contact.contact_id)
            # No account yet: each contact is its own account, as in evaluate_account.
            roll_up = shared or roll_up_engagement(
                definition, {contact_id: engagement[contact_id]}, {contact_id: roles[contact_id]}
            )
            verdict = Verdict(scores[id(lead)], roll_up, decide_stage(definition, scores[id(lead)], roll_up))
            transition = next_state(lead.state, verdict, has_email=lead.contact.email is not None, now=at)
            lead.state = transition.state
            if transition.qualified and self.start <= at:
                self._record(lead, at, transition.state, verdict)
            self._resolve(lead)

    def _record(self, lead: _Lead, at: datetime, state: LeadState, verdict: Verdict) -> None:
        contact = lead.contact
        # The touch behind it: the hand-raise, or else the lead's latest touch so far.
        touch_id = lead.ledger.touches[lead.seen - 1].touch_id if lead.seen else None
        if state.reason == "hand_raiser":
            touch_id = next(hit.touch_id for hit in verdict.score.hand_raisers if hit.fit_grade_met)
        index = next((i for i, touch in enumerate(contact.touches) if touch.touch_id == touch_id), -1)
        touch = contact.touches[index] if index >= 0 else None
        self.qualifications.append(
            Qualification(
                contact_id=contact.contact_id,
                account_id=self.account.account_id,
                at=at,
                reason=state.reason or "",
                cycle=state.qualification_cycle,
                touch_id=touch.touch_id if touch else None,
                source_system=contact.source_systems[index] if touch else None,
                channel=touch.channel if touch else None,
                campaign=touch.campaign if touch else None,
            )
        )

    def rule_hits(self) -> RuleCounts:
        """How many of the account's contacts and touches each rule fired on, by rule id (after `run`).

        Fit and disqualifiers are taken on the attributes as they are now and the consent after the last touch.
        """
        rules, account = self.rules, self.account.attributes
        touches: Counter[str] = Counter()
        contacts: Counter[str] = Counter({rule_id: len(self.leads) for rule_id in rules.fired_on_account(account)})
        seen: dict[object, list[str]] = {}
        for lead in self.leads:
            if lead.counted:
                fired = [entry.rule_id for entry in lead.counted]
                touches.update(fired)
                contacts.update(set(fired))
            contacts.update(rules.fired_on(lead.contact.attributes, account, lead.consent, seen))
        counts: RuleCounts = {rule_id: [count, touches[rule_id]] for rule_id, count in contacts.items()}
        for position, leads in self.raisers.items():
            counts[rules.definition.hand_raisers[position].id] = [len(leads), self.raises[position]]
        return counts


RuleCounts = dict[str, list[int]]  # rule id -> [contacts, touches] it fired on


def _seconds(days: float | None) -> float:
    return math.inf if days is None else days * SECONDS_PER_DAY


def replay_account(
    rules: Rules, account: AccountHistory, start: datetime, end: datetime
) -> tuple[list[Qualification], int, RuleCounts]:
    """The account's qualifications in [start, end), how many account evaluations finding them took, and how many
    contacts and touches each rule fired on."""
    replay = AccountReplay(rules, account, start, end)
    qualifications = replay.run()
    return qualifications, replay.evaluations, replay.rule_hits()
