"""Scoring a lead: fit, engagement, disqualifiers, hand-raisers, the account roll-up and the lifecycle stage.

Pure and deterministic: the same definition, attributes, touches and `now` (taken from the event, never
the wall clock) give the same result, live or in replay. Scores are rounded to 2 decimals in the results,
and thresholds are compared with the rounded scores people see.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.lead_scoring.definitions.conditions import (
    Attributes,
    Evaluate,
    Getter,
    Results,
    evaluate,
    getter,
    lookup,
    same_value,
)
from services.lead_scoring.definitions.document import Disqualifier, Grade, LeadDefinition, grade_at_least
from services.lead_scoring.scoring.engagement import (
    Engagement,
    EngagementLedger,
    EngagementResult,
    HandRaiserHit,
    Touch,
    TouchRules,
    micros,
    require_aware,
)

Stage = Literal["raw", "engaged", "mql", "disqualified"]


@dataclass(frozen=True)
class Consent:
    """What the contact allowed: `marketing_consent` None means never asked or unknown."""

    marketing_consent: bool | None = None
    unsubscribed: bool = False
    erased: bool = False


@dataclass(frozen=True)
class FitHit:
    """A fit rule that matched, with what matched ('account.industry=software')."""

    rule_id: str
    points: float
    matched: tuple[str, ...]
    kind: Literal["fit"] = "fit"


@dataclass(frozen=True)
class FitResult:
    """The fit score, its grade and the rules that matched."""

    score: float
    grade: Grade
    hits: tuple[FitHit, ...]


@dataclass(frozen=True)
class DisqualifierHit:
    """A disqualifier that fired; `rule_id` is None for the built-in one (an erased contact)."""

    rule_id: str | None
    reason_code: str
    detail: str
    kind: Literal["disqualifier"] = "disqualifier"


@dataclass(frozen=True)
class ContactScore:
    """Everything the definition says about one contact at `scored_at`."""

    definition_version: int | None
    scored_at: datetime
    fit: FitResult
    engagement: EngagementResult
    disqualifiers: tuple[DisqualifierHit, ...]
    hand_raisers: tuple[HandRaiserHit, ...]


@dataclass(frozen=True)
class AccountScore:
    """The account's roll-up of its contacts and the state of its buying committee."""

    score: float
    engaged_contacts: tuple[str, ...]
    roles_covered: tuple[str, ...]
    committee_met: bool
    missing_roles: tuple[str, ...]


@dataclass(frozen=True)
class StageDecision:
    """The lifecycle stage, why (criteria, hand_raiser, a disqualifier's reason code, ...) and in words."""

    stage: Stage
    reason: str
    explanation: str
    unmet_criteria: tuple[str, ...] = ()


def score_fit(
    definition: LeadDefinition, contact: Attributes, account: Attributes | None, test: Evaluate = evaluate
) -> FitResult:
    """The fit score: the points of every fit rule whose condition holds, and its grade.

    `test` evaluates a rule's condition: a `Results` memo spares evaluating the same condition on the same values
    again, for the contacts of an account and beyond.
    """
    hits = []
    for rule in definition.fit.rules:
        matched = test(rule.when, contact, account)
        if matched is not None:
            hits.append(FitHit(rule_id=rule.id, points=rule.points, matched=matched))
    score = round(math.fsum(hit.points for hit in hits), 2) + 0.0
    return FitResult(score=score, grade=fit_grade(definition, score), hits=tuple(hits))


def fit_grade(definition: LeadDefinition, score: float) -> Grade:
    """The grade of a fit score: the best grade whose threshold it reaches, else D."""
    grades = definition.fit.grades
    thresholds: tuple[tuple[Grade, float], ...] = (("A", grades.A), ("B", grades.B), ("C", grades.C))
    for grade, threshold in thresholds:
        if score >= threshold:
            return grade
    return "D"


def check_disqualifiers(
    definition: LeadDefinition,
    contact: Attributes,
    account: Attributes | None,
    consent: Consent,
    test: Evaluate = evaluate,
) -> tuple[DisqualifierHit, ...]:
    """Every disqualifier that fires, in definition order; an erased contact is always disqualified."""
    hits = []
    if consent.erased:
        hits.append(DisqualifierHit(rule_id=None, reason_code="erased", detail="the contact asked to be forgotten"))
    for rule in definition.disqualifiers:
        detail = _disqualifier_detail(rule, contact, account, consent, test)
        if detail is not None:
            hits.append(DisqualifierHit(rule_id=rule.id, reason_code=rule.reason_code, detail=detail))
    return tuple(hits)


def _disqualifier_detail(
    rule: Disqualifier,
    contact: Attributes,
    account: Attributes | None,
    consent: Consent,
    test: Evaluate,
) -> str | None:
    if rule.kind == "competitor_domain":
        competitors = [_domain(domain) for domain in rule.domains or ()]
        for domain in _domains_of(contact, account):
            for competitor in competitors:
                if domain == competitor or domain.endswith("." + competitor):
                    return f"domain {domain} belongs to competitor {competitor}"
        return None
    if rule.kind == "condition":
        assert rule.when is not None  # guaranteed by the definition's validator
        matched = test(rule.when, contact, account)
        return None if matched is None else ", ".join(matched)
    if rule.kind == "existing_customer":
        field = rule.field or "account.is_customer"
        return f"{field} is true" if same_value(lookup(field, contact, account), True) else None
    if consent.unsubscribed:
        return "unsubscribed"
    if consent.marketing_consent is False:
        return "withdrew marketing consent"
    if rule.require_opt_in and consent.marketing_consent is None:
        return "no recorded opt-in"
    return None


def _domains_of(contact: Attributes, account: Attributes | None) -> list[str]:
    candidates = [contact.get("email_domain"), account.get("domain") if account else None]
    email = contact.get("email")
    if isinstance(email, str) and "@" in email:
        candidates.append(email.rsplit("@", 1)[1])
    return [_domain(value) for value in candidates if isinstance(value, str) and value.strip()]


def _domain(value: str) -> str:
    domain = value.strip().casefold().rstrip(".")
    return domain.removeprefix("www.")


def find_hand_raisers(
    definition: LeadDefinition, touches: Iterable[Touch], fit: Grade, now: datetime, since: datetime | None = None
) -> tuple[HandRaiserHit, ...]:
    """For each hand-raiser rule, its latest touch in (since, now] and within the rule's `within_days`."""
    state = EngagementLedger.start(definition).extend(touches).state_at(now)
    return state.hand_raisers(TouchRules.of(definition), fit, micros(now), micros(since) if since else None)


def score_contact(
    definition: LeadDefinition,
    *,
    contact: Attributes,
    account: Attributes | None,
    touches: Iterable[Touch] | EngagementLedger,
    consent: Consent,
    now: datetime,
    cycle_started_at: datetime | None = None,
    fit: FitResult | None = None,
    disqualifiers: tuple[DisqualifierHit, ...] | None = None,
) -> ContactScore:
    """Score one contact at `now`, with every engagement hit; hand-raises at or before `cycle_started_at` (a past
    cycle) do not count. `fit` and `disqualifiers` pass what `score_fit` and `check_disqualifiers` gave for these
    same attributes and consent (they depend on nothing else)."""
    require_aware(now, "now")
    ledger = touches if isinstance(touches, EngagementLedger) else EngagementLedger.start(definition).extend(touches)
    if fit is None:
        fit = score_fit(definition, contact, account)
    if disqualifiers is None:
        disqualifiers = check_disqualifiers(definition, contact, account, consent)
    return ContactScore(
        definition_version=definition.version,
        scored_at=now,
        fit=fit,
        engagement=ledger.score_at(now),
        disqualifiers=disqualifiers,
        hand_raisers=_raised(definition, ledger.state_at(now), fit, now, cycle_started_at),
    )


def score_state(
    definition: LeadDefinition,
    state: Engagement,
    profile: Profile,
    now: datetime,
    cycle_started_at: datetime | None = None,
) -> ContactScore:
    """`score_contact` from the contact's running engagement state (touches up to `now`) and its profile (fit and
    disqualifiers): the same scores, without the engagement hits. What the engine decides by."""
    fit, disqualifiers = profile
    return ContactScore(
        definition_version=definition.version,
        scored_at=now,
        fit=fit,
        engagement=EngagementResult(score=state.score(micros(now)), hits=()),
        disqualifiers=disqualifiers,
        hand_raisers=_raised(definition, state, fit, now, cycle_started_at),
    )


def _raised(
    definition: LeadDefinition, state: Engagement, fit: FitResult, now: datetime, since: datetime | None
) -> tuple[HandRaiserHit, ...]:
    if not state.raised:
        return ()
    return state.hand_raisers(TouchRules.of(definition), fit.grade, micros(now), micros(since) if since else None)


Profile = tuple[FitResult, tuple[DisqualifierHit, ...]]


class ProfileMemo:
    """`score_fit` and `check_disqualifiers` of published definitions, remembered: every touch scores all its
    account's contacts again.

    A profile is kept under what the definition reads of the contact, its account and its consent (`Reads`), so
    contacts that look alike to the rules (the same title at the same company) share it. A profile not seen yet
    is scored with each rule's condition remembered by the values it reads (`conditions.Results`).
    """

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        # id(definition) -> what is remembered for it (the memo keeps the definition, so its id is not reused)
        self._memos: dict[int, _Memo] = {}
        self._lock = threading.Lock()

    def profiles(
        self, definition: LeadDefinition, account: Attributes | None, contacts: Iterable[tuple[Attributes, Consent]]
    ) -> list[Profile]:
        """The fit and the disqualifiers that fire of each of an account's contacts."""
        if definition.version is None:  # a draft: its rules may still change under the same number
            test = Results().of_account()
            return [_profile(definition, contact, account, consent, test) for contact, consent in contacts]
        memo = self._memo(definition)
        test = memo.results.of_account()
        of_account = memo.reads.of_account(account)
        found = []
        for contact, consent in contacts:
            key = (of_account, consent, memo.reads.of_contact(contact))
            try:
                profile = memo.profiles.get(key)
            except TypeError:  # a list or a mapping among the values: scored, not remembered
                found.append(_profile(definition, contact, account, consent, test))
                continue
            if profile is None:
                profile = _profile(definition, contact, account, consent, test)
                with self._lock:
                    if len(memo.profiles) >= self._size:
                        memo.profiles.pop(next(iter(memo.profiles)))  # the oldest entry
                    memo.profiles[key] = profile
            found.append(profile)
        return found

    def _memo(self, definition: LeadDefinition) -> _Memo:
        memo = self._memos.get(id(definition))
        if memo is None or memo.definition is not definition:
            with self._lock:
                if len(self._memos) >= 8:
                    self._memos.clear()
                memo = self._memos[id(definition)] = _Memo(definition, Reads.of(definition), Results(self._size), {})
        return memo


@dataclass(frozen=True)
class _Memo:
    definition: LeadDefinition
    reads: Reads
    results: Results
    profiles: dict[Hashable, Profile]


@dataclass(frozen=True)
class Reads:
    """What a definition's fit rules and disqualifiers read of a contact and of its account: all a profile depends on,
    with consent."""

    contact: tuple[Getter, ...]
    account: tuple[Getter, ...]

    @classmethod
    def of(cls, definition: LeadDefinition) -> Reads:
        """The fields the definition's rules read, split by whose they are."""
        conditions = [rule.when for rule in definition.fit.rules]
        conditions += [rule.when for rule in definition.disqualifiers if rule.when is not None]
        paths = {path for condition in conditions for path in condition.fields}
        derived = []
        for rule in definition.disqualifiers:
            if rule.kind == "existing_customer":
                paths.add(rule.field or "account.is_customer")
            if rule.kind == "competitor_domain":  # what `_domains_of` reads: of the email, only its domain
                paths |= {"contact.email_domain", "account.domain"}
                derived = [_email_domain]
        ordered = sorted(paths)
        return cls(
            contact=(*(getter(path) for path in ordered if path.startswith("contact.")), *derived),
            account=tuple(getter(path) for path in ordered if path.startswith("account.")),
        )

    def of_account(self, account: Attributes | None) -> Hashable:
        """The values read of the account (typed: True, 1 and 1.0 are different values to a rule)."""
        if account is None:
            return None
        values = tuple(get({}, account) for get in self.account)
        return values, tuple(map(type, values))

    def of_contact(self, contact: Attributes) -> Hashable:
        """The values read of the contact, typed."""
        values = tuple(get(contact, None) for get in self.contact)
        return values, tuple(map(type, values))


def _email_domain(contact: Attributes, account: Attributes | None) -> object:
    email = contact.get("email")
    return email.rsplit("@", 1)[1] if isinstance(email, str) and "@" in email else None


def _profile(
    definition: LeadDefinition, contact: Attributes, account: Attributes | None, consent: Consent, test: Evaluate
) -> Profile:
    return score_fit(definition, contact, account, test), check_disqualifiers(
        definition, contact, account, consent, test
    )


def is_engaged(definition: LeadDefinition, score: ContactScore) -> bool:
    """True if the contact's engagement reaches the definition's `engaged` threshold."""
    return score.engagement.score >= definition.engaged.min_engagement_score


def roll_up_account(
    definition: LeadDefinition,
    contact_scores: Mapping[str, ContactScore],
    roles_by_contact: Mapping[str, str | None],
) -> AccountScore:
    """Combine an account's contacts (by contact id); disqualified contacts count for nothing."""
    eligible = {
        contact_id: score.engagement.score for contact_id, score in contact_scores.items() if not score.disqualifiers
    }
    return roll_up_engagement(definition, eligible, roles_by_contact)


def roll_up_engagement(
    definition: LeadDefinition, engagement_scores: Mapping[str, float], roles_by_contact: Mapping[str, str | None]
) -> AccountScore:
    """Combine the engagement scores of an account's contacts that are not disqualified (by contact id)."""
    engagement = sorted(engagement_scores.values(), reverse=True)
    roll_up = definition.account.roll_up
    counted = engagement[: roll_up.n] if roll_up.method == "sum_top_n" else engagement[:1]
    threshold = definition.engaged.min_engagement_score
    engaged = [(cid, roles_by_contact.get(cid)) for cid, score in engagement_scores.items() if score >= threshold]
    return account_score(definition, counted, engaged)


def account_score(
    definition: LeadDefinition, counted: Iterable[float], engaged: Iterable[tuple[str, str | None]]
) -> AccountScore:
    """The account's score (the sum of the `counted` contacts' scores: its top n, or its best) and its buying
    committee, from its engaged contacts (contact id, buying role)."""
    engaged = sorted(engaged)
    covered = sorted({role for _, role in engaged if role})
    committee = definition.account.committee
    missing = tuple(role for role in committee.required_roles if role not in covered)
    requirements = []
    if committee.required_roles:
        requirements.append(not missing)
    if committee.min_engaged_contacts:
        requirements.append(len(engaged) >= committee.min_engaged_contacts)
    met = all(requirements) if committee.require == "all" else (not requirements or any(requirements))
    return AccountScore(
        score=round(math.fsum(counted), 2) + 0.0,
        engaged_contacts=tuple(contact_id for contact_id, _ in engaged),
        roles_covered=tuple(covered),
        committee_met=met,
        missing_roles=missing,
    )


def decide_stage(
    definition: LeadDefinition, score: ContactScore, account: AccountScore, *, words: bool = True
) -> StageDecision:
    """The lifecycle stage; for a contact without an account, pass the roll-up of the contact alone.

    `words=False` decides the same stage for the same reason without putting it in words (no explanation, unmet
    criteria by name only): an account's other contacts are staged at every touch, and mostly stay where they are.
    """
    if score.disqualifiers:
        first = score.disqualifiers[0]
        text = f"disqualified ({first.reason_code}): {first.detail}" if words else ""
        return StageDecision("disqualified", first.reason_code, text)
    unmet = _unmet_criteria(definition, score, account, words)
    for hit in score.hand_raisers:
        if hit.fit_grade_met:
            if not words:
                return StageDecision("mql", "hand_raiser", "", tuple(unmet))
            when = hit.occurred_at.isoformat()
            text = f"hand-raiser {hit.rule_id}: {hit.touch_type} at {when}, fit grade {score.fit.grade}"
            return StageDecision("mql", "hand_raiser", f"{text} (min {hit.min_fit_grade})", tuple(unmet))
    if not unmet:
        text = "meets the MQL criteria: " + _criteria_met(definition, score, account) if words else ""
        return StageDecision("mql", "criteria", text)
    threshold = definition.engaged.min_engagement_score
    engagement = score.engagement.score
    if is_engaged(definition, score):
        text = f"engaged: engagement {engagement:g} >= {threshold:g}; not an MQL: {'; '.join(unmet)}" if words else ""
        return StageDecision("engaged", "engagement_threshold", text, tuple(unmet))
    text = f"raw: engagement {engagement:g} < {threshold:g}; not an MQL: {'; '.join(unmet)}" if words else ""
    return StageDecision("raw", "below_engagement_threshold", text, tuple(unmet))


def _unmet_criteria(definition: LeadDefinition, score: ContactScore, account: AccountScore, words: bool) -> list[str]:
    mql = definition.mql
    unmet = []
    if not grade_at_least(score.fit.grade, mql.min_fit_grade):
        unmet.append(f"fit grade {score.fit.grade} is below {mql.min_fit_grade}" if words else "fit")
    if score.engagement.score < mql.min_engagement_score:
        unmet.append(f"engagement {score.engagement.score:g} < {mql.min_engagement_score:g}" if words else "engagement")
    if mql.min_account_score is not None and account.score < mql.min_account_score:
        unmet.append(f"account score {account.score:g} < {mql.min_account_score:g}" if words else "account")
    if mql.committee_required and not account.committee_met:
        if not words:
            unmet.append("committee")
            return unmet
        needed = definition.account.committee.min_engaged_contacts
        details = [f"no engaged {role}" for role in account.missing_roles]
        if len(account.engaged_contacts) < needed:
            details.append(f"{len(account.engaged_contacts)} of {needed} engaged contacts")
        unmet.append("buying committee not met: " + ", ".join(details))
    return unmet


def _criteria_met(definition: LeadDefinition, score: ContactScore, account: AccountScore) -> str:
    mql = definition.mql
    parts = [
        f"fit grade {score.fit.grade} (min {mql.min_fit_grade})",
        f"engagement {score.engagement.score:g} (min {mql.min_engagement_score:g})",
    ]
    if mql.min_account_score is not None:
        parts.append(f"account score {account.score:g} (min {mql.min_account_score:g})")
    if mql.committee_required:
        parts.append("buying committee met")
    return ", ".join(parts)
