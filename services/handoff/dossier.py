"""The dossier a rep reads: the contact, the account, the buying committee and the roles it still lacks, why the
lead qualified now, its last touches and the definition version. Pure: built from lead.qualified and the roles
handoff learned since (a rep's insight), as plain JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from events.catalog.leads import CommitteeMember, LeadQualified, RuleHit
from services.handoff.routing.lead import employee_band, region_of

ENGAGED_STAGES = frozenset({"engaged", "mql"})
TOP_RULES = 5


def build_dossier(
    qualified: LeadQualified,
    *,
    qualified_at: datetime,
    required_roles: Sequence[str],
    known_roles: Mapping[str, str],
) -> dict[str, Any]:
    """The dossier of a qualified lead; `known_roles` maps contact ids to buying roles sales logged since."""
    account = qualified.account
    members = [_member(member, known_roles) for member in qualified.buying_committee]
    covered = {member["buying_role"] for member in members if member["buying_role"] and member["engaged"]}
    return {
        "lead_id": str(qualified.lead_id),
        "qualification_cycle": qualified.qualification_cycle,
        "definition_version": qualified.definition_version,
        "qualified_at": qualified_at.isoformat(),
        "contact": qualified.contact.model_dump(mode="json"),
        "account": None
        if account is None
        else {
            **account.model_dump(mode="json"),
            "region": region_of(account.country),
            "employee_band": employee_band(account.employees),
        },
        "buying_committee": {
            "members": members,
            "required_roles": list(required_roles),
            "missing_roles": [role for role in required_roles if role not in covered],
        },
        "why_now": why_now(qualified),
        "recent_touches": [touch.model_dump(mode="json") for touch in qualified.recent_touches],
    }


def why_now(qualified: LeadQualified) -> dict[str, Any]:
    """Why the lead is an MQL now: the reason in words, the scores, and the rules that weighed most."""
    score = qualified.score
    if qualified.reason == "hand_raiser":
        asked = next((touch.touch_type for touch in qualified.recent_touches), "a hand-raising touch")
        summary = f"raised their hand ({asked.replace('_', ' ')}) with fit grade {score.fit_grade}"
    else:
        summary = (
            f"met the MQL criteria of definition v{qualified.definition_version}: fit grade {score.fit_grade} "
            f"({score.fit_score:g}), engagement {score.engagement_score:g}"
        )
    if qualified.qualification_cycle > 1:
        summary += f"; qualification {qualified.qualification_cycle} (qualified before, recycled)"
    hits = sorted(score.breakdown, key=lambda hit: -abs(hit.decayed_points))[:TOP_RULES]
    return {
        "reason": qualified.reason,
        "summary": summary,
        "fit_score": score.fit_score,
        "fit_grade": score.fit_grade,
        "engagement_score": score.engagement_score,
        "account_score": score.account_score,
        "top_rules": [_hit(hit) for hit in hits],
    }


def _member(member: CommitteeMember, known_roles: Mapping[str, str]) -> dict[str, Any]:
    role = member.buying_role or known_roles.get(str(member.contact_id))
    return {
        "contact_id": str(member.contact_id),
        "email": member.email,
        "name": member.name,
        "title": member.title,
        "buying_role": role,
        "stage": member.stage,
        "engaged": member.stage in ENGAGED_STAGES,
        "engagement_score": member.engagement_score,
        "last_touch_at": member.last_touch_at.isoformat() if member.last_touch_at else None,
    }


def _hit(hit: RuleHit) -> dict[str, Any]:
    return {
        "rule_id": hit.rule_id,
        "kind": hit.kind,
        "label": hit.label,
        "matched": hit.matched,
        "points": hit.decayed_points,
    }
