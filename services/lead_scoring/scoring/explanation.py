"""The explanation of a lead's score: a JSON-able answer to "why is this lead an MQL now?"."""

from __future__ import annotations

import math
from typing import Any

from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.scoring.engagement import EngagementHit
from services.lead_scoring.scoring.lifecycle import NO_LONGER_QUALIFIES, LeadState
from services.lead_scoring.scoring.rules import AccountScore, ContactScore, StageDecision


def explain(
    definition: LeadDefinition,
    score: ContactScore,
    account: AccountScore,
    decision: StageDecision,
    lead: LeadState | None = None,
) -> dict[str, Any]:
    """Every rule that fired with its points, the decay applied, the caps hit, and the definition version.

    The stage is the `lead`'s (when given), which is what the lead reads: an MQL stays an MQL while sales works it,
    whatever later scores say, and a lead sales disqualified stays so. The verdict of these scores alone is kept
    under `scores_say` when it differs.
    """
    labels = _labels(definition)
    stage = _stage(decision, lead)
    return {
        "definition": {"name": definition.name, "version": score.definition_version},
        "scored_at": score.scored_at.isoformat(),
        **stage,
        "unmet_criteria": list(decision.unmet_criteria),
        "fit": {
            "score": score.fit.score,
            "grade": score.fit.grade,
            "hits": [
                {
                    "rule_id": hit.rule_id,
                    "kind": hit.kind,
                    "label": labels[hit.rule_id],
                    "points": hit.points,
                    "matched": list(hit.matched),
                }
                for hit in score.fit.hits
            ],
        },
        "engagement": {
            "score": score.engagement.score,
            "by_rule": _by_rule(score.engagement.hits, labels),
            "hits": [_engagement_hit(hit, labels) for hit in score.engagement.hits],
        },
        "account": {
            "score": account.score,
            "engaged_contacts": list(account.engaged_contacts),
            "roles_covered": list(account.roles_covered),
            "committee_met": account.committee_met,
            "missing_roles": list(account.missing_roles),
        },
        "disqualifiers": [
            {
                "rule_id": hit.rule_id,
                "kind": hit.kind,
                "label": labels.get(hit.rule_id or "", "the contact was erased"),
                "reason_code": hit.reason_code,
                "detail": hit.detail,
            }
            for hit in score.disqualifiers
        ],
        "hand_raisers": [
            {
                "rule_id": hit.rule_id,
                "kind": hit.kind,
                "label": labels[hit.rule_id],
                "touch_id": hit.touch_id,
                "touch_type": hit.touch_type,
                "occurred_at": hit.occurred_at.isoformat(),
                "min_fit_grade": hit.min_fit_grade,
                "fit_grade_met": hit.fit_grade_met,
            }
            for hit in score.hand_raisers
        ],
    }


def _stage(decision: StageDecision, lead: LeadState | None) -> dict[str, Any]:
    own = {"stage": decision.stage, "reason": decision.reason, "explanation": decision.explanation}
    qualified = None
    if lead is not None and lead.mql_at is not None:
        qualified = {"definition_version": lead.mql_version, "at": lead.mql_at.isoformat()}
    if lead is None or (lead.stage, lead.reason) == (decision.stage, decision.reason):
        return {**own, "qualified": qualified} if lead is not None and lead.stage == "mql" else own
    if lead.stage == "mql":
        under = f"version {lead.mql_version}" if lead.mql_version is not None else "an earlier version"
        words = f"mql: qualified under {under} at {lead.mql_at.isoformat() if lead.mql_at else 'an unknown time'}"
        words += (
            f" ({lead.reason}); an MQL stays an MQL while sales works it. These scores alone: {decision.explanation}"
        )
    elif lead.stage == "disqualified":
        words = f"disqualified ({lead.reason}): a person decided, whatever the scores say. These scores alone: "
        words += decision.explanation
    elif lead.reason == NO_LONGER_QUALIFIES:
        under = f"version {lead.mql_version}" if lead.mql_version is not None else "an earlier version"
        words = (
            f"{lead.stage}: an MQL of {under} that version {lead.definition_version} no longer qualifies, and no "
            f"handoff had accepted it: its publication returned it to {lead.stage} (republication.open_mqls). "
            f"These scores alone: {decision.explanation}"
        )
    elif lead.reason == "qualification_on_hold":
        wait = f"sales' recycle wait runs until {lead.recycled_until.isoformat()}" if lead.recycled_until else ""
        words = f"{lead.stage}: the scores qualify, but the lead may not qualify yet ({wait or 'no email to reach'})."
        words += f" These scores alone: {decision.explanation}"
    else:
        words = f"{lead.stage} ({lead.reason}): {decision.explanation}"
    answer = {"stage": lead.stage, "reason": lead.reason, "explanation": words, "scores_say": own}
    return {**answer, "qualified": qualified} if lead.stage == "mql" else answer


def _labels(definition: LeadDefinition) -> dict[str, str]:
    pairs = [(rule.id, rule.label) for rule in definition.fit.rules]
    pairs += [(rule.id, rule.label) for rule in definition.engagement.rules]
    pairs += [(rule.id, rule.label) for rule in definition.disqualifiers]
    pairs += [(rule.id, rule.label) for rule in definition.hand_raisers]
    return {rule_id: label or rule_id for rule_id, label in pairs}


def _engagement_hit(hit: EngagementHit, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "rule_id": hit.rule_id,
        "kind": hit.kind,
        "label": labels[hit.rule_id],
        "touch_id": hit.touch_id,
        "touch_type": hit.touch_type,
        "occurred_at": hit.occurred_at.isoformat(),
        "raw_points": hit.raw_points,
        "counted_points": _points(hit.counted_points),
        "cap_hit": hit.cap_hit,
        "cut_points": _points(hit.cut_points),
        "decay_factor": round(hit.decay_factor, 4),
        "decayed_points": _points(hit.decayed_points),
    }


def _by_rule(hits: tuple[EngagementHit, ...], labels: dict[str, str]) -> list[dict[str, Any]]:
    # One line per rule, in order of first firing: the summary a rep reads before the touch-by-touch detail.
    groups: dict[str, list[EngagementHit]] = {}
    for hit in hits:
        groups.setdefault(hit.rule_id, []).append(hit)
    return [
        {
            "rule_id": rule_id,
            "label": labels[rule_id],
            "touches": len(group),
            "raw_points": _points(math.fsum(hit.raw_points for hit in group)),
            "counted_points": _points(math.fsum(hit.counted_points for hit in group)),
            "decayed_points": _points(math.fsum(hit.decayed_points for hit in group)),
            "caps_hit": sum(hit.cap_hit for hit in group),
        }
        for rule_id, group in groups.items()
    ]


def _points(value: float) -> float:
    return round(value, 2) + 0.0
