"""How facts from the leads and touches topics change nurture's view of a contact: pure, time from the event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.nurture.tracks.compiled import Match

CAMPAIGNS_KEPT = 50
UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class Profile:
    """A contact as the entry criteria, consent checks and quiet hours read it."""

    stage: str
    fit_grade: str | None = None
    industry: str | None = None
    employees: int | None = None
    country: str | None = None
    time_zone: str | None = None
    buying_role: str | None = None
    source: str | None = None
    campaigns: tuple[str, ...] = ()
    email: str | None = None
    marketing_consent: bool | None = None
    unsubscribed_at: datetime | None = None
    erased_at: datetime | None = None


def may_contact(profile: Profile) -> str | None:
    """Why the contact may not receive a marketing action now (None: it may)."""
    if profile.erased_at is not None:
        return "erased"
    if profile.unsubscribed_at is not None or profile.marketing_consent is False:
        return "unsubscribed"
    if not profile.email:
        return "unreachable"  # nothing marketing automation could deliver to
    return None


def touched(campaigns: Sequence[str], campaign: str | None) -> list[str]:
    """The campaigns a contact touched, with `campaign` as the newest, the oldest dropped past the limit."""
    if not campaign:
        return list(campaigns)
    kept = [known for known in campaigns if known != campaign]
    return [*kept, campaign][-CAMPAIGNS_KEPT:]


def matches(match: Match, profile: Profile, *, recycle_reason: str | None = None) -> bool:
    """Whether `profile` meets compiled criteria (the tracks' `Match`); an unknown value never matches a criterion."""
    checks = (
        (match.stages, profile.stage),
        (match.fit_grades, profile.fit_grade),
        (match.industries, (profile.industry or "").lower() or None),
        (match.countries, profile.country),
        (match.buying_roles, profile.buying_role),
        (match.recycle_reasons, recycle_reason),
        (match.sources, profile.source),
    )
    if any(allowed is not None and (value is None or value not in allowed) for allowed, value in checks):
        return False
    if match.campaigns is not None and not match.campaigns & set(profile.campaigns):
        return False
    if match.has_employee_band:
        if profile.employees is None:
            return False
        if match.employees_min is not None and profile.employees < match.employees_min:
            return False
        if match.employees_max is not None and profile.employees > match.employees_max:
            return False
    return True


def erased(profile: Profile, at: datetime) -> Profile:
    """The profile after erasure: nothing that names the person is kept."""
    return replace(profile, email=None, time_zone=None, buying_role=None, campaigns=(), erased_at=at)
