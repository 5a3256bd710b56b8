"""The explanation of a lead's score: a JSON-able answer to "why is this lead an MQL now?"."""

from __future__ import annotations

import math
from typing import Any

from services.lead_scoring.definition import LeadDefinition
from services.lead_scoring.engagement import EngagementHit
from services.lead_scoring.scoring import AccountScore, ContactScore, StageDecision


def explain(
    definition: LeadDefinition, score: ContactScore, account: AccountScore, decision: StageDecision
) -> dict[str, Any]:
    """Every rule that fired with its points, the decay applied, the caps hit, and the definition version."""
    labels = _labels(definition)
    return {
        "definition": {"name": definition.name, "version": score.definition_version},
        "scored_at": score.scored_at.isoformat(),
        "stage": decision.stage,
        "reason": decision.reason,
        "explanation": decision.explanation,
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
