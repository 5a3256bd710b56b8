"""What the published definition agreed for handoffs, as handoff applies it: the SLA, its breach policy, the
rejection reasons with their recycle policies, and the roles a buying committee needs. Pure.

The definition arrives on `leadflow.definitions` (definition.published) and is kept in handoff's own table.
Until one is known, DEFAULT_TERMS apply, so a lead that qualifies before its definition's event arrives is still
handed off under a sane SLA.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from events.catalog.common import Recycle

OnBreach = Literal["escalate", "reassign", "return_to_queue"]
WARN_SHARE = 0.75  # the warning falls when three quarters of the SLA's business time has passed


@dataclass(frozen=True)
class HandoffTerms:
    """The SLA and reasons of one definition version."""

    definition_version: int | None
    accept_within_hours: float
    on_breach: OnBreach
    reasons: Mapping[str, Recycle]
    labels: Mapping[str, str] = field(default_factory=dict)
    required_roles: tuple[str, ...] = ()
    warn_share: float = WARN_SHARE

    @property
    def allowed_codes(self) -> tuple[str, ...]:
        """The agreed rejection reason codes, in the definition's order."""
        return tuple(self.reasons)

    def recycle(self, code: str) -> Recycle:
        """The recycle policy of a reason (close the cycle when the definition has none for it)."""
        return self.reasons.get(code) or Recycle(action="close")


DEFAULT_TERMS = HandoffTerms(
    definition_version=None,
    accept_within_hours=8,
    on_breach="reassign",
    reasons={
        code: Recycle(action="close")
        for code in ("bad_timing", "no_budget", "wrong_contact", "not_a_fit", "duplicate", "existing_opportunity")
    },
)


def terms_of(version: int, sla: Mapping[str, Any], reasons: list[Any], required_roles: list[str]) -> HandoffTerms:
    """The terms of a stored definition.published: its SLA and reasons as the event carried them."""
    return HandoffTerms(
        definition_version=version,
        accept_within_hours=float(sla["accept_within_business_hours"]),
        on_breach=sla["on_breach"],
        reasons={reason["code"]: Recycle.model_validate(reason["recycle"]) for reason in reasons},
        labels={reason["code"]: reason["label"] for reason in reasons},
        required_roles=tuple(required_roles),
    )


def required_roles_of(document: Mapping[str, Any]) -> list[str]:
    """The roles the definition's buying committee requires (account.committee.required_roles), if any."""
    account = document.get("account")
    committee = account.get("committee") if isinstance(account, dict) else None
    roles = committee.get("required_roles") if isinstance(committee, dict) else None
    return [role for role in roles if isinstance(role, str)] if isinstance(roles, list) else []
