"""The events lead_scoring emits about a lead, built from its contact, account and verdict."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from events.catalog.common import TouchSummary
from events.catalog.leads import (
    TOUCH_IDS,
    AccountSummary,
    CommitteeMember,
    ContactSummary,
    LeadDisqualified,
    LeadProfile,
    LeadQualified,
    LeadScored,
    RuleHit,
    Score,
)
from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.leads.scope import Member
from services.lead_scoring.models import Account
from services.lead_scoring.scoring.engagement import Touch as ScoringTouch
from services.lead_scoring.scoring.lifecycle import LeadState, Transition, Verdict

RECENT_TOUCHES = 10


def account_key(contact: Member, account: Account | None) -> str:
    """The key of events about this contact: its account's key, else its email, else its id."""
    if account is not None:
        return account.key
    return contact.email or str(contact.id)


def breakdown(definition: LeadDefinition, verdict: Verdict) -> list[RuleHit]:
    """Every rule that fired for the contact, engagement summed per rule."""
    labels = _labels(definition)
    score = verdict.score
    hits = [
        _hit(hit.rule_id, "fit", labels.get(hit.rule_id, hit.rule_id), ", ".join(hit.matched) or None, hit.points)
        for hit in score.fit.hits
    ]
    by_rule: dict[str, list[Any]] = defaultdict(list)
    for engagement_hit in score.engagement.hits:
        by_rule[engagement_hit.rule_id].append(engagement_hit)
    for rule_id, rule_hits in by_rule.items():
        hits.append(
            _hit(
                rule_id,
                "engagement",
                labels.get(rule_id, rule_id),
                None,
                round(sum(hit.counted_points for hit in rule_hits), 2),
                round(sum(hit.decayed_points for hit in rule_hits), 2),
                cap_hit=any(hit.cap_hit for hit in rule_hits),
                touch_ids=[uuid.UUID(hit.touch_id) for hit in rule_hits[-TOUCH_IDS:]],
            )
        )
    hits += [
        _hit(rule_id, "disqualifier", labels.get(rule_id, "the contact was erased"), hit.detail, 0)
        for hit in score.disqualifiers
        if (rule_id := hit.rule_id or "erased")
    ]
    hits += [
        _hit(
            hit.rule_id,
            "hand_raiser",
            labels.get(hit.rule_id, hit.rule_id),
            f"{hit.touch_type} at {hit.occurred_at.isoformat()}",
            0,
            touch_ids=[uuid.UUID(hit.touch_id)],
        )
        for hit in score.hand_raisers
    ]
    return hits


def _hit(
    rule_id: str,
    kind: Literal["fit", "engagement", "disqualifier", "hand_raiser"],
    label: str,
    matched: str | None,
    points: float,
    decayed_points: float | None = None,
    *,
    cap_hit: bool = False,
    touch_ids: list[uuid.UUID] | None = None,
) -> RuleHit:
    # Built without validation (every value comes from the published definition and the stored touches, and
    # lead.scored is the consumer's hottest path), every field given: a default would be looked up at a cost.
    return RuleHit.model_construct(
        rule_id=rule_id,
        kind=kind,
        label=label,
        matched=matched,
        points=points,
        decayed_points=points if decayed_points is None else decayed_points,
        cap_hit=cap_hit,
        touch_ids=touch_ids or [],
    )


def _labels(definition: LeadDefinition) -> dict[str, str]:
    cached = _LABELS.get(id(definition))
    if cached is not None and cached[0] is definition:
        return cached[1]
    if len(_LABELS) >= 16:
        _LABELS.clear()
    rules: list[Any] = [
        *definition.fit.rules,
        *definition.engagement.rules,
        *definition.disqualifiers,
        *definition.hand_raisers,
    ]
    labels = {rule.id: rule.label or rule.id for rule in rules}
    _LABELS[id(definition)] = (definition, labels)
    return labels


# id(definition) -> (definition, its rules' labels): built once per definition, not once per event
_LABELS: dict[int, tuple[LeadDefinition, dict[str, str]]] = {}


def score_of(definition: LeadDefinition, verdict: Verdict) -> Score:
    """The scores and their breakdown."""
    return Score(
        fit_score=verdict.score.fit.score,
        fit_grade=verdict.score.fit.grade,
        engagement_score=verdict.score.engagement.score,
        account_score=verdict.account.score,
        definition_version=definition.version or 1,
        breakdown=breakdown(definition, verdict),
    )


def lead_scored(
    definition: LeadDefinition,
    contact: Member,
    account: Account | None,
    transition: Transition,
    verdict: Verdict,
    trigger_event_id: uuid.UUID | None,
) -> LeadScored:
    """lead.scored: the new scores and stage, with the rules behind them."""
    return LeadScored(
        lead_id=contact.id,
        contact_id=contact.id,
        account_id=account.id if account else None,
        account_key=account_key(contact, account),
        stage=transition.state.stage,
        previous_stage=transition.previous_stage,
        trigger_event_id=trigger_event_id,
        reason=transition.state.reason,
        profile=profile_of(contact, account),
        **dict(score_of(definition, verdict)),  # its fields, the rule hits as built (not dumped and parsed again)
    )


def profile_of(contact: Member, account: Account | None) -> LeadProfile:
    """Who the lead is, for nurture: the contact's attributes, the account's where the contact has none."""
    mine, theirs = contact.attributes, account.attributes if account else {}
    custom = mine.get("custom")
    zone = custom.get("time_zone") if isinstance(custom, dict) else None
    employees = mine.get("employees", theirs.get("employees"))
    industry = mine.get("industry") or theirs.get("industry")
    consent = mine.get("marketing_consent")
    return LeadProfile(
        email=contact.email,
        buying_role=contact.buying_role,
        industry=industry if isinstance(industry, str) else None,
        employees=employees if isinstance(employees, int) and not isinstance(employees, bool) else None,
        country=_country(mine.get("country")) or _country(theirs.get("country")),
        time_zone=zone if isinstance(zone, str) and 0 < len(zone) <= 64 else None,
        marketing_consent=consent if isinstance(consent, bool) else None,
        unsubscribed=contact.consent == "unsubscribed",
    )


def lead_disqualified(
    contact: Member, account: Account | None, transition: Transition, verdict: Verdict
) -> LeadDisqualified:
    """lead.disqualified: which disqualifier fired (or that sales disqualified it)."""
    hits = verdict.score.disqualifiers
    return LeadDisqualified(
        lead_id=contact.id,
        contact_id=contact.id,
        account_id=account.id if account else None,
        account_key=account_key(contact, account),
        reason_code=hits[0].reason_code if hits else (transition.state.reason or "disqualified"),
        previous_stage=transition.previous_stage or "raw",
        definition_version=transition.state.definition_version or 1,
        rule_id=hits[0].rule_id if hits else None,
        detail=hits[0].detail if hits else None,
    )


def lead_qualified(
    definition: LeadDefinition,
    contact: Member,
    account: Account | None,
    transition: Transition,
    verdict: Verdict,
    *,
    members: Sequence[Member],
    leads: Mapping[uuid.UUID, LeadState],
    touches: Sequence[ScoringTouch],
    last_touch_at: Mapping[uuid.UUID, datetime | None],
) -> LeadQualified:
    """lead.qualified: everything the handoff service puts in the rep's dossier (`touches`: the lead's own;
    `last_touch_at`: of its account's contacts)."""
    assert contact.email is not None, "only contacts with an email qualify"
    attributes = contact.attributes
    points = {hit.touch_id: hit.decayed_points for hit in verdict.score.engagement.hits}
    recent = sorted(touches, key=lambda touch: touch.order, reverse=True)[:RECENT_TOUCHES]
    return LeadQualified(
        lead_id=contact.id,
        contact_id=contact.id,
        account_id=account.id if account else None,
        account_key=account_key(contact, account),
        qualification_cycle=transition.state.qualification_cycle,
        reason="hand_raiser" if transition.state.reason == "hand_raiser" else "criteria",
        definition_version=definition.version or 1,
        contact=ContactSummary(
            contact_id=contact.id,
            email=contact.email,
            first_name=attributes.get("first_name"),
            last_name=attributes.get("last_name"),
            title=attributes.get("title"),
            phone=attributes.get("phone"),
            country=_country(attributes.get("country")),
            linkedin_url=attributes.get("linkedin_url"),
            buying_role=contact.buying_role,
        ),
        account=_account_summary(account, verdict) if account else None,
        buying_committee=[
            _member(member, leads.get(member.id), last_touch_at.get(member.id))
            for member in members
            if member.email and member.id != contact.id
        ][:50],
        score=score_of(definition, verdict),
        recent_touches=[
            TouchSummary(
                touch_id=uuid.UUID(touch.touch_id),
                occurred_at=touch.occurred_at,
                touch_type=touch.touch_type,
                channel=touch.channel,
                campaign=touch.campaign,
                points=round(points.get(touch.touch_id, 0.0), 2),
            )
            for touch in recent
        ],
    )


def _country(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) == 2 and value.isupper() else None


def _account_summary(account: Account, verdict: Verdict) -> AccountSummary:
    attributes = account.attributes
    employees = attributes.get("employees")
    return AccountSummary(
        account_id=account.id,
        name=account.name or account.domain or account.key,
        domain=account.domain,
        industry=attributes.get("industry"),
        employees=employees if isinstance(employees, int) else None,
        country=_country(attributes.get("country")),
        crm_account_id=account.external_id,
        engaged_contacts=len(verdict.account.engaged_contacts),
    )


def _member(member: Member, lead: LeadState | None, last_touch_at: datetime | None) -> CommitteeMember:
    assert member.email is not None
    name = " ".join(part for part in (member.attributes.get("first_name"), member.attributes.get("last_name")) if part)
    return CommitteeMember(
        contact_id=member.id,
        email=member.email,
        name=name or None,
        title=member.attributes.get("title"),
        buying_role=member.buying_role,
        stage=lead.stage if lead else "raw",
        engagement_score=lead.engagement_score if lead else 0.0,
        last_touch_at=last_touch_at,
    )
