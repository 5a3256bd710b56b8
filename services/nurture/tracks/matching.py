"""Whether a lead matches a track's entry criteria or a step's skip condition: pure, on plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.nurture.tracks.compiled import CompiledStep, Match


@dataclass(frozen=True)
class LeadProfile:
    """What nurture knows of a lead when it decides: stage, fit, segment, role, why it came back, what it did,
    and how and whether it may be reached (zone, email, consent) when a step fires."""

    stage: str
    fit_grade: str | None = None
    industry: str | None = None
    employees: int | None = None
    country: str | None = None
    buying_role: str | None = None
    recycle_reason: str | None = None  # set when sales sent the lead back
    source: str | None = None
    campaigns: frozenset[str] = field(default_factory=frozenset)  # campaigns the lead touched
    engaged_content: frozenset[str] = field(default_factory=frozenset)  # content ids the contact engaged with
    time_zone: str | None = None
    email: str | None = None
    marketing_consent: bool | None = None
    unsubscribed_at: datetime | None = None
    erased_at: datetime | None = None


def matches(match: Match, lead: LeadProfile) -> bool:
    """True if every criterion given holds; an unknown value never matches a criterion on it."""
    return (
        _among(match.stages, lead.stage)
        and _among(match.fit_grades, lead.fit_grade)
        and _among(match.industries, lead.industry.casefold() if lead.industry else None)
        and _in_band(match, lead.employees)
        and _among(match.countries, lead.country)
        and _among(match.buying_roles, lead.buying_role)
        and _among(match.recycle_reasons, lead.recycle_reason)
        and _among(match.sources, lead.source.casefold() if lead.source else None)
        and (match.campaigns is None or bool(match.campaigns & lead.campaigns))
        and (match.engaged_with is None or bool(match.engaged_with & lead.engaged_content))
    )


def should_skip(step: CompiledStep, lead: LeadProfile) -> bool:
    """True if the step has a skip condition and the lead meets it when the step comes due."""
    return step.skip_if is not None and matches(step.skip_if, lead)


def _among(allowed: frozenset[str] | None, value: str | None) -> bool:
    return allowed is None or (value is not None and value in allowed)


def _in_band(match: Match, employees: int | None) -> bool:
    if not match.has_employee_band:
        return True
    if employees is None:
        return False
    return (match.employees_min is None or employees >= match.employees_min) and (
        match.employees_max is None or employees <= match.employees_max
    )
