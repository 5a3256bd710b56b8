"""Routing a qualified lead to a rep, as a pure decision: account owner, then rules, then weighted round robin.

1. The account owner, when active and not out of office. Capacity does not apply to the owner: account
   continuity overrides load, as sales orgs usually want (one voice per account); the decision says so when
   the owner was over capacity. Working hours do not apply either (no rule asked for them).
2. Else the first rule whose conditions all match (Salesforce assignment rules). The first match decides:
   when its target has nobody eligible the lead goes to the unrouted queue, later rules are not tried.
3. In a team's pool, weighted round robin as LeanData does it: every rep has a pointer, the lowest pointer
   among the eligible wins, and the winner's pointer grows by 1/weight. Ties go to the lowest stable hash of
   (lead id, rep id), so a replay picks the same rep. A rep without a pointer (new to the pool, or back from
   an absence: an absent or inactive rep's pointer is dropped when a lead skips them) starts at the average
   pointer of the eligible reps who have one, so a returning rep gets their share from now on, not a flood.
   A rep skipped for capacity or hours keeps their pointer.
4. Nobody eligible: the unrouted queue.

`exclude` names reps this lead must not go to now (the rep who just let its SLA pass): skipped as "excluded"
wherever they come up, owner included, keeping their pointer.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from calendars import is_open
from services.handoff.routing.model import LeadToRoute, PoolPointers, Rep, RepLoad, RoutingRule, SalesOrg

SkipReason = Literal["inactive", "out_of_office", "at_capacity", "outside_hours", "unknown_rep", "excluded"]
Method = Literal["account_owner", "rule_rep", "round_robin", "unrouted"]
# Skips that mean the rep is gone for a while: their place in the rotation is forgotten.
_ABSENT: frozenset[SkipReason] = frozenset({"inactive", "out_of_office"})
_NO_LOAD = RepLoad()


@dataclass(frozen=True)
class Candidate:
    """A rep considered at a step, with their pointer (pools) and why they were skipped (None: eligible)."""

    rep_id: uuid.UUID
    step: str  # "account_owner" or "rule N"
    skipped: SkipReason | None = None
    pointer: float | None = None


@dataclass(frozen=True)
class RuleTried:
    """A rule tried in order, matched or not."""

    number: int
    name: str
    matched: bool


@dataclass(frozen=True)
class RoutingDecision:
    """The winner (None: the unrouted queue), why, every candidate and rule tried, and the pointers after."""

    lead_id: uuid.UUID
    rep_id: uuid.UUID | None
    method: Method
    why: str
    rules_tried: tuple[RuleTried, ...]
    candidates: tuple[Candidate, ...]
    pointers: Mapping[str, PoolPointers]  # every pool's pointers after the decision
    pool: str | None = None  # the pool whose pointers changed, if any
    rule: RuleTried | None = None  # the rule that matched, if any
    notes: tuple[str, ...] = field(default=())

    @property
    def routing_rule(self) -> str:
        """How the rep was chosen, as handoff.assigned's `routing_rule` says it."""
        if self.method == "account_owner":
            return "account_owner"
        if self.method == "round_robin":
            return f"round_robin:{self.pool}"
        if self.rule is not None:
            return f"rule:{self.rule.name}"
        return "unrouted"


def route(
    lead: LeadToRoute,
    org: SalesOrg,
    load: Mapping[uuid.UUID, RepLoad],
    pointers: Mapping[str, PoolPointers],
    now: datetime,
    exclude: frozenset[uuid.UUID] = frozenset(),
) -> RoutingDecision:
    """Route a lead: account owner, else the first matching rule (a rep, a pool, or the queue), else the queue."""
    if now.utcoffset() is None:
        raise ValueError(f"now: must be timezone-aware (got {now.isoformat()})")
    candidates: list[Candidate] = []
    owner = lead.account_owner
    if owner is not None:
        rep = org.by_id.get(owner.rep_id)
        skipped = _unavailable(rep, now, exclude) if rep is not None else "unknown_rep"
        candidates.append(Candidate(owner.rep_id, "account_owner", skipped))
        if rep is not None and skipped is None:
            notes: tuple[str, ...] = ()
            if _at_capacity(rep, load.get(rep.rep_id, _NO_LOAD)):
                notes = ("the owner is at capacity: account continuity overrides it",)
            why = f"account owner ({'CRM owner' if owner.source == 'crm' else 'rep of an earlier accepted handoff'})"
            return RoutingDecision(
                lead.lead_id, rep.rep_id, "account_owner", why, (), tuple(candidates), pointers, notes=notes
            )
    tried: list[RuleTried] = []
    for number, rule in enumerate(org.rules, start=1):
        matched = all(condition.matches(lead) for condition in rule.conditions)
        tried.append(RuleTried(number, rule.name, matched))
        if matched:
            match = _RuleMatch(lead, tried[-1], tuple(tried), candidates, pointers, exclude)
            return _apply_rule(org, load, now, rule, match)
    return RoutingDecision(lead.lead_id, None, "unrouted", "no rule matched", tuple(tried), tuple(candidates), pointers)


@dataclass
class _RuleMatch:
    """A matched rule's part of the decision, gathered as it is made."""

    lead: LeadToRoute
    tried: RuleTried
    rules_tried: tuple[RuleTried, ...]
    candidates: list[Candidate]
    pointers: Mapping[str, PoolPointers]
    exclude: frozenset[uuid.UUID] = frozenset()

    @property
    def step(self) -> str:
        return f"rule {self.tried.number}"

    def decide(self, rep_id: uuid.UUID | None, method: Method, why: str, pool: str | None = None) -> RoutingDecision:
        return RoutingDecision(
            lead_id=self.lead.lead_id,
            rep_id=rep_id,
            method=method,
            why=f"rule {self.tried.number} ({self.tried.name}) matched: {why}",
            rules_tried=self.rules_tried,
            candidates=tuple(self.candidates),
            pointers=self.pointers,
            pool=pool,
            rule=self.tried,
        )


def _apply_rule(
    org: SalesOrg, load: Mapping[uuid.UUID, RepLoad], now: datetime, rule: RoutingRule, match: _RuleMatch
) -> RoutingDecision:
    target = rule.target
    if target.kind == "unrouted":
        return match.decide(None, "unrouted", "its target is the unrouted queue")
    if target.kind == "rep":
        assert target.rep_id is not None  # checked when the org was built
        rep = org.by_id[target.rep_id]
        skipped = _skip(rep, load, rule, now, org, match.exclude)
        match.candidates.append(Candidate(rep.rep_id, match.step, skipped))
        if skipped is None:
            return match.decide(rep.rep_id, "rule_rep", "its target rep")
        return match.decide(None, "unrouted", f"its target rep is skipped ({skipped.replace('_', ' ')})")
    assert target.team is not None  # checked when the org was built
    return _round_robin(org, load, now, rule, target.team, match)


def _round_robin(
    org: SalesOrg, load: Mapping[uuid.UUID, RepLoad], now: datetime, rule: RoutingRule, team: str, match: _RuleMatch
) -> RoutingDecision:
    pool = org.pool(team)
    before = match.pointers.get(team, {})
    skips = {rep.rep_id: _skip(rep, load, rule, now, org, match.exclude) for rep in pool}
    eligible = [rep for rep in pool if skips[rep.rep_id] is None]
    known = [before[rep.rep_id] for rep in eligible if rep.rep_id in before]
    start = sum(known) / len(known) if known else 0.0
    after: dict[uuid.UUID, float] = {}
    for rep in pool:
        if skips[rep.rep_id] in _ABSENT:
            continue  # forgotten: back from the absence, the rep starts at the average
        if rep.rep_id in before:
            after[rep.rep_id] = before[rep.rep_id]
        elif skips[rep.rep_id] is None:
            after[rep.rep_id] = start
    match.candidates.extend(Candidate(rep.rep_id, match.step, skips[rep.rep_id], after.get(rep.rep_id)) for rep in pool)
    if not eligible:
        match.pointers = {**match.pointers, team: after}
        return match.decide(None, "unrouted", f"nobody eligible in pool {team}", pool=team)
    winner = min(eligible, key=lambda rep: (after[rep.rep_id], tie_break(match.lead.lead_id, rep.rep_id)))
    lowest = after[winner.rep_id]
    tied = sum(1 for rep in eligible if after[rep.rep_id] == lowest)
    after[winner.rep_id] = lowest + 1.0 / winner.weight
    match.pointers = {**match.pointers, team: after}
    why = f"pool {team}, lowest pointer {lowest:g}" + (f" (a tie of {tied}, broken by hash)" if tied > 1 else "")
    return match.decide(winner.rep_id, "round_robin", why, pool=team)


def tie_break(lead_id: uuid.UUID, rep_id: uuid.UUID) -> int:
    """A stable hash of (lead, rep): the same on every run and machine, unlike Python's hash()."""
    return int.from_bytes(hashlib.sha256(lead_id.bytes + rep_id.bytes).digest()[:8], "big")


def _unavailable(rep: Rep, now: datetime, exclude: frozenset[uuid.UUID] = frozenset()) -> SkipReason | None:
    if rep.rep_id in exclude:
        return "excluded"
    if not rep.active:
        return "inactive"
    if rep.away(now):
        return "out_of_office"
    return None


def _at_capacity(rep: Rep, load: RepLoad) -> bool:
    return load.open_unaccepted >= rep.max_open or load.assigned_today >= rep.max_new_per_day


def _skip(
    rep: Rep,
    load: Mapping[uuid.UUID, RepLoad],
    rule: RoutingRule,
    now: datetime,
    org: SalesOrg,
    exclude: frozenset[uuid.UUID],
) -> SkipReason | None:
    unavailable = _unavailable(rep, now, exclude)
    if unavailable is not None:
        return unavailable
    if _at_capacity(rep, load.get(rep.rep_id, _NO_LOAD)):
        return "at_capacity"
    if rule.respect_working_hours and not is_open(org.calendars[rep.calendar], now):
        return "outside_hours"
    return None
