"""A lead's lifecycle as pure rules: move a lead to its next state given the verdict of the definition in force.

raw -> engaged -> mql, or disqualified. An MQL stays an MQL while sales works it (decay does not take it
back); sales' feedback ends the qualification cycle (recycle), and a new cycle can qualify it again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from services.lead_scoring.scoring.rules import (
    AccountScore,
    ContactScore,
    Stage,
    StageDecision,
)

# Reasons that keep a lead disqualified whatever its scores say: a person, not a rule, decided.
STICKY_REASONS = ("erased", "sales_disqualified")
# The reason of an MQL a publication returned to engaged (the definition's republication.open_mqls).
NO_LONGER_QUALIFIES = "no_longer_qualifies"
OpenMqlCase = Literal["still_qualified", "kept_accepted", "kept_by_policy", "returned_to_engaged"]


@dataclass(frozen=True)
class LeadState:
    """A lead as stored: its stage and scores, and where it is in its qualification cycles."""

    stage: Stage
    reason: str | None
    fit_score: float
    fit_grade: str
    engagement_score: float
    account_score: float
    definition_version: int
    qualification_cycle: int = 0
    cycle_started_at: datetime | None = None
    recycled_until: datetime | None = None
    mql_at: datetime | None = None
    mql_version: int | None = None


@dataclass(frozen=True)
class Verdict:
    """What the definition says of one contact at one moment."""

    score: ContactScore
    account: AccountScore
    decision: StageDecision


@dataclass(frozen=True)
class Transition:
    """The lead's next state, and which events that causes."""

    state: LeadState
    previous_stage: Stage | None
    changed: bool
    qualified: bool
    disqualified: bool


def next_state(previous: LeadState | None, verdict: Verdict, *, has_email: bool, now: datetime) -> Transition:
    """Move a lead on from `previous` given the verdict of the definition in force."""
    decided: Stage = verdict.decision.stage
    reason: str | None = verdict.decision.reason
    score = verdict.score
    stage: Stage = decided
    qualified = False
    cycle = previous.qualification_cycle if previous else 0
    mql_at = previous.mql_at if previous else None
    mql_version = previous.mql_version if previous else None
    if previous and previous.stage == "disqualified" and previous.reason in STICKY_REASONS:
        stage, reason = "disqualified", previous.reason
    elif decided == "disqualified":
        pass
    elif previous and previous.stage == "mql":
        stage, reason = "mql", previous.reason  # sales is working it: scores may fade, the stage does not
    elif decided == "mql" and not _may_qualify(previous, has_email=has_email, now=now):
        stage, reason = "engaged", "qualification_on_hold"
    elif decided == "mql":
        qualified, cycle, mql_at, mql_version = True, cycle + 1, now, score.definition_version
    state = LeadState(
        stage=stage,
        reason=reason,
        fit_score=score.fit.score,
        fit_grade=score.fit.grade,
        engagement_score=score.engagement.score,
        account_score=verdict.account.score,
        definition_version=score.definition_version or 0,
        qualification_cycle=cycle,
        cycle_started_at=previous.cycle_started_at if previous else None,
        recycled_until=previous.recycled_until if previous else None,
        mql_at=mql_at,
        mql_version=mql_version,
    )
    previous_stage = previous.stage if previous else None
    return Transition(
        state=state,
        previous_stage=previous_stage,
        changed=previous is None or _visible(previous) != _visible(state),
        qualified=qualified,
        disqualified=stage == "disqualified" and previous_stage != "disqualified",
    )


def may_qualify_in_the_past(previous: LeadState | None, instant: datetime) -> bool:
    """Whether a late event may qualify the lead at an `instant` before its latest evaluation.

    Not a lead qualified or disqualified since (sales would get a lead already unsubscribed or found a
    competitor), nor at an instant before its current cycle began (that cycle's past belongs to sales' decision).
    """
    if previous is None:
        return True
    if previous.stage in ("mql", "disqualified"):
        return False
    return previous.cycle_started_at is None or instant > previous.cycle_started_at


def _may_qualify(previous: LeadState | None, *, has_email: bool, now: datetime) -> bool:
    # Sales cannot work a lead it cannot reach; and a recycled lead waits as the recycle policy says.
    if not has_email:
        return False
    return previous is None or previous.recycled_until is None or now >= previous.recycled_until


def _visible(state: LeadState) -> tuple[Any, ...]:
    return (
        state.stage,
        state.fit_score,
        state.fit_grade,
        state.engagement_score,
        state.account_score,
        state.definition_version,
    )


def recycle(state: LeadState, *, action: str, wait_days: int | None, now: datetime) -> LeadState:
    """End the qualification cycle after sales sent the lead back, as the agreed recycle policy says."""
    if action == "disqualify":
        return replace(state, stage="disqualified", reason="sales_disqualified")
    until = now + timedelta(days=wait_days) if wait_days else None
    # The lead goes back to engaged: the next evaluation places it by its scores, in a new cycle.
    return replace(state, stage="engaged", reason=f"recycled_{action}", cycle_started_at=now, recycled_until=until)


def republish(
    previous: LeadState | None,
    transition: Transition,
    verdict: Verdict,
    *,
    accepted: bool,
    policy: str,
    now: datetime,
) -> tuple[Transition, OpenMqlCase | None]:
    """What publishing a version does to an open MQL, and which case it is (None: the lead was no open MQL).

    An MQL the new version still qualifies, or that a handoff accepted (sales works it), stays an MQL. One the
    new version no longer qualifies stays one under the policy `keep`; under `return_to_engaged` it goes back
    to engaged, its qualification cycle ended (a new qualification is a new cycle, announced again).
    """
    if previous is None or previous.stage != "mql" or transition.state.stage != "mql":
        return transition, None  # no open MQL, or one a disqualifier now takes out whatever the policy
    if verdict.decision.stage == "mql":
        return transition, "still_qualified"
    if accepted:
        return transition, "kept_accepted"
    if policy != "return_to_engaged":
        return transition, "kept_by_policy"
    state = replace(transition.state, stage="engaged", reason=NO_LONGER_QUALIFIES, cycle_started_at=now)
    return replace(transition, state=state, changed=True), "returned_to_engaged"
