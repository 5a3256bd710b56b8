"""What routing decides on: the lead, the sales org (reps, teams' pools, ordered rules, calendars) and the load.

Plain frozen values, checked when built: an org whose rule names an unknown rep or team, or whose rep names an
unknown calendar, is refused with the rule (or rep) and the field named, so a bad configuration fails on save,
never in the middle of a routing decision.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from calendars import Calendar

# The lead's fields a rule may test, as in Salesforce assignment rules' criteria.
LeadField = Literal["country", "region", "industry", "employee_band", "fit_grade", "buying_role", "source"]
LEAD_FIELDS: tuple[LeadField, ...] = (
    "country",
    "region",
    "industry",
    "employee_band",
    "fit_grade",
    "buying_role",
    "source",
)
# A team's round-robin pointers: rep -> pointer. Lower goes next; a rep with none starts at the pool's average.
PoolPointers = Mapping[uuid.UUID, float]


class RoutingConfigError(ValueError):
    """A routing configuration that cannot route: the message names the rule or rep and the field."""


@dataclass(frozen=True)
class AccountOwner:
    """The rep who owns the lead's account: the CRM owner, or the rep of an earlier accepted handoff."""

    rep_id: uuid.UUID
    source: Literal["crm", "earlier_handoff"]


@dataclass(frozen=True)
class LeadToRoute:
    """A qualified lead as routing sees it: its account, the fields rules test, and the account's owner."""

    lead_id: uuid.UUID
    account_id: uuid.UUID | None = None
    country: str | None = None
    region: str | None = None
    industry: str | None = None
    employee_band: str | None = None
    fit_grade: str | None = None
    buying_role: str | None = None
    source: str | None = None
    account_owner: AccountOwner | None = None

    def value(self, name: LeadField) -> str | None:
        """The lead's value of a field a rule tests."""
        value: str | None = getattr(self, name)
        return value


@dataclass(frozen=True)
class Absence:
    """An out-of-office period, [start, end)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value.utcoffset() is None:
                raise RoutingConfigError(f"absence: {name} must be timezone-aware (got {value.isoformat()})")
        if self.end <= self.start:
            raise RoutingConfigError(
                f"absence: end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )

    def covers(self, at: datetime) -> bool:
        """Whether the instant falls in the absence."""
        return self.start <= at < self.end


@dataclass(frozen=True)
class Rep:
    """A sales rep or manager: team, calendar, capacity, round-robin weight, absences, active or not."""

    rep_id: uuid.UUID
    team: str
    calendar: str
    role: Literal["rep", "manager"] = "rep"
    max_open: int = 20  # most open handoffs not yet accepted
    max_new_per_day: int = 10  # most handoffs assigned per day
    weight: float = 1.0  # round-robin share: weight 2 gets twice the leads of weight 1
    out_of_office: tuple[Absence, ...] = ()
    active: bool = True

    def __post_init__(self) -> None:
        def fail(name: str, reason: str) -> RoutingConfigError:
            return RoutingConfigError(f"rep {self.rep_id}: {name}: {reason}")

        if not self.weight > 0:
            raise fail("weight", f"must be > 0 (got {self.weight})")
        if self.max_open < 0:
            raise fail("max_open", f"must be >= 0 (got {self.max_open})")
        if self.max_new_per_day < 0:
            raise fail("max_new_per_day", f"must be >= 0 (got {self.max_new_per_day})")

    def away(self, at: datetime) -> bool:
        """Whether the rep is out of office at the instant."""
        return any(absence.covers(at) for absence in self.out_of_office)


@dataclass(frozen=True)
class RepLoad:
    """A rep's current load: open handoffs not yet accepted, and handoffs assigned today."""

    open_unaccepted: int = 0
    assigned_today: int = 0


@dataclass(frozen=True)
class Condition:
    """A rule's test of one lead field: equal to a value, or in a list of values (case-insensitive)."""

    field: LeadField
    op: Literal["eq", "in"]
    values: tuple[str, ...]

    def matches(self, lead: LeadToRoute) -> bool:
        """Whether the lead's field satisfies the condition (a missing field never does)."""
        value = lead.value(self.field)
        return value is not None and value.casefold() in {wanted.casefold() for wanted in self.values}


@dataclass(frozen=True)
class Target:
    """Where a matching rule sends the lead: one rep, a team's round-robin pool, or the unrouted queue."""

    kind: Literal["rep", "pool", "unrouted"]
    rep_id: uuid.UUID | None = None
    team: str | None = None


@dataclass(frozen=True)
class RoutingRule:
    """An ordered rule: every condition must match (none: matches all); the first matching rule decides."""

    name: str
    conditions: tuple[Condition, ...]
    target: Target
    respect_working_hours: bool = False


@dataclass(frozen=True)
class SalesOrg:
    """Reps, ordered rules and the calendars reps work on; checked when built."""

    reps: tuple[Rep, ...]
    rules: tuple[RoutingRule, ...]
    calendars: Mapping[str, Calendar]
    by_id: Mapping[uuid.UUID, Rep] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[uuid.UUID, Rep] = {}
        for rep in self.reps:
            if rep.rep_id in by_id:
                raise RoutingConfigError(f"rep {rep.rep_id}: rep_id: listed twice")
            if rep.calendar not in self.calendars:
                raise RoutingConfigError(f"rep {rep.rep_id}: calendar: unknown calendar {rep.calendar!r}")
            by_id[rep.rep_id] = rep
        object.__setattr__(self, "by_id", by_id)
        teams = {rep.team for rep in self.reps}
        for number, rule in enumerate(self.rules, start=1):
            _check_rule(number, rule, by_id, teams)

    def pool(self, team: str) -> tuple[Rep, ...]:
        """A team's round-robin pool: its members with the rep role, in configuration order."""
        return tuple(rep for rep in self.reps if rep.team == team and rep.role == "rep")


def _check_rule(number: int, rule: RoutingRule, reps: Mapping[uuid.UUID, Rep], teams: set[str]) -> None:
    def fail(name: str, reason: str) -> RoutingConfigError:
        return RoutingConfigError(f"routing rule {number} ({rule.name}): {name}: {reason}")

    for index, condition in enumerate(rule.conditions):
        if condition.field not in LEAD_FIELDS:
            raise fail(f"conditions[{index}].field", f"unknown lead field {condition.field!r}")
        if not condition.values or (condition.op == "eq" and len(condition.values) != 1):
            raise fail(
                f"conditions[{index}].values",
                f"{condition.op} needs {'one value' if condition.op == 'eq' else 'values'}",
            )
    target = rule.target
    if target.kind == "rep" and (target.rep_id is None or target.rep_id not in reps):
        raise fail("target.rep_id", f"unknown rep {target.rep_id}")
    if target.kind == "pool" and (target.team is None or target.team not in teams):
        raise fail("target.team", f"unknown team {target.team!r}")
