"""Sales orgs, reps and leads for the handoff tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from services.handoff.routing.model import (
    Condition,
    LeadField,
    LeadToRoute,
    Rep,
    RoutingRule,
    SalesOrg,
    Target,
)
from tests.calendars.builders import calendar

PARIS = calendar("Europe/Paris")
# Tuesday 13 January 2026, 10:00 Paris (CET): inside working hours.
OPEN_NOW = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
# The same day, 20:00 Paris: outside working hours.
CLOSED_NOW = datetime(2026, 1, 13, 19, 0, tzinfo=UTC)


def rep_id(name: str) -> uuid.UUID:
    """A stable rep id from a readable name."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"rep:{name}")


def lead_id(number: int) -> uuid.UUID:
    """A stable lead id from a number."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"lead:{number}")


def rep(name: str, team: str = "emea", **fields: Any) -> Rep:
    """A rep on the Paris calendar, generous capacity unless given."""
    fields.setdefault("max_open", 1_000)
    fields.setdefault("max_new_per_day", 1_000)
    return Rep(rep_id=rep_id(name), team=team, calendar="paris", **fields)


def pool_rule(team: str = "emea", *, hours: bool = False, name: str = "everyone", **conditions: Any) -> RoutingRule:
    """A rule sending leads whose fields equal `conditions` to a team's pool."""
    return RoutingRule(
        name=name,
        conditions=tuple(Condition(cast(LeadField, field), "eq", (value,)) for field, value in conditions.items()),
        target=Target("pool", team=team),
        respect_working_hours=hours,
    )


def org(*reps: Rep, rules: tuple[RoutingRule, ...] | None = None) -> SalesOrg:
    """An org of the reps, routing every lead to the emea pool unless rules are given."""
    return SalesOrg(reps=reps, rules=rules if rules is not None else (pool_rule(),), calendars={"paris": PARIS})


def lead(number: int = 1, **fields: Any) -> LeadToRoute:
    """A lead in France by default."""
    fields.setdefault("country", "FR")
    return LeadToRoute(lead_id=lead_id(number), **fields)
