"""What routing rules test, derived from a qualified lead: region from the country, the employee band from headcount.

Pure. Rules in the routing document compare these values case-insensitively, so the document writes them as
listed here: regions EMEA, NA, LATAM, APAC; employee bands 1-49, 50-199, 200-999, 1000-4999, 5000+.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from services.handoff.routing.model import AccountOwner, LeadToRoute

# Headcount bands, as sales orgs segment accounts (SMB, mid-market, enterprise): (lowest headcount, name).
EMPLOYEE_BANDS: tuple[tuple[int, str], ...] = (
    (5000, "5000+"),
    (1000, "1000-4999"),
    (200, "200-999"),
    (50, "50-199"),
    (0, "1-49"),
)
_NA = {"US", "CA"}
_LATAM = {"MX", "BR", "AR", "CL", "CO", "PE", "VE", "EC", "UY", "PY", "BO", "CR", "PA", "GT", "HN", "SV", "NI", "DO"}
_APAC = {"AU", "NZ", "JP", "CN", "KR", "IN", "SG", "HK", "TW", "MY", "TH", "ID", "PH", "VN", "PK", "BD", "LK"}


def employee_band(employees: int | None) -> str | None:
    """The band of a headcount, e.g. 850 -> "200-999"; None when unknown."""
    if employees is None:
        return None
    return next(name for lowest, name in EMPLOYEE_BANDS if employees >= lowest)


def region_of(country: str | None) -> str | None:
    """The sales region of an ISO 3166-1 alpha-2 country: NA, LATAM, APAC, else EMEA; None when unknown."""
    if not country:
        return None
    code = country.upper()
    if code in _NA:
        return "NA"
    if code in _LATAM:
        return "LATAM"
    return "APAC" if code in _APAC else "EMEA"


def lead_to_route(
    *,
    lead_id: uuid.UUID,
    account_id: uuid.UUID | None,
    country: str | None,
    industry: str | None,
    employees: int | None,
    fit_grade: str | None,
    buying_role: str | None,
    source: str | None,
    account_owner: AccountOwner | None,
) -> LeadToRoute:
    """The lead as routing sees it: the account's country wins over the contact's, as territories are accounts'."""
    return LeadToRoute(
        lead_id=lead_id,
        account_id=account_id,
        country=country,
        region=region_of(country),
        industry=industry,
        employee_band=employee_band(employees),
        fit_grade=fit_grade,
        buying_role=buying_role,
        source=source,
        account_owner=account_owner,
    )


def lead_from_dossier(lead_id: uuid.UUID, dossier: Mapping[str, Any], owner: AccountOwner | None) -> LeadToRoute:
    """The lead as routing sees it, from its dossier: the account's fields, the contact's role, the last channel."""
    account = dossier.get("account") or {}
    contact = dossier.get("contact") or {}
    touches = dossier.get("recent_touches") or []
    return lead_to_route(
        lead_id=lead_id,
        account_id=uuid.UUID(account["account_id"]) if account.get("account_id") else None,
        country=account.get("country") or contact.get("country"),
        industry=account.get("industry"),
        employees=account.get("employees"),
        fit_grade=(dossier.get("why_now") or {}).get("fit_grade"),
        buying_role=contact.get("buying_role"),
        source=touches[0].get("channel") if touches else None,
        account_owner=owner,
    )
