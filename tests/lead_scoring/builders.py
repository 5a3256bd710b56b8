"""Small definitions, touches and contacts for the lead_scoring unit tests, with numbers easy to check by hand."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from services.lead_scoring.definitions.document import LeadDefinition, parse_definition
from services.lead_scoring.scoring.engagement import Touch

EXAMPLE_PATH = Path(__file__).resolve().parents[2] / "config" / "lead_definition.example.yaml"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

BASE: dict[str, Any] = {
    "name": "test definition",
    "version": 3,
    "fit": {
        "rules": [
            {"id": "industry", "when": {"field": "account.industry", "in": ["software", "logistics"]}, "points": 30},
            {"id": "size", "when": {"field": "account.employees", "range": {"min": 50, "max": 5000}}, "points": 20},
            {"id": "vp", "when": {"field": "contact.title", "regex": r"\bvp\b"}, "points": 15},
            {"id": "free_mail", "when": {"field": "contact.email_domain", "eq": "gmail.com"}, "points": -25},
        ],
        "grades": {"A": 60, "B": 40, "C": 20},
    },
    "engagement": {
        "half_life_days": 10,
        "rules": [
            {"id": "webinar", "match": {"touch_types": ["webinar_attended"]}, "points": 20},
            {
                "id": "open",
                "match": {"touch_types": ["email_open"]},
                "points": 2,
                "cap": {"max_points": 5, "window_days": 7},
                "decay": False,
            },
            {
                "id": "careers",
                "match": {"touch_types": ["page_view"], "content_tags": ["careers"]},
                "points": -10,
                "cap": {"max_points": 15, "window_days": 30},
                "decay": False,
            },
            {"id": "unsubscribe", "match": {"touch_types": ["unsubscribe"]}, "points": -20, "decay": False},
            {
                "id": "paid_launch",
                "match": {"channels": ["paid_social"], "campaigns": ["q3-launch"]},
                "points": 4,
                "half_life_days": 5,
            },
            {"id": "demo", "match": {"touch_types": ["demo_request"]}, "points": 10, "decay": False},
        ],
    },
    "engaged": {"min_engagement_score": 10},
    "account": {
        "roll_up": {"method": "sum_top_n", "n": 2},
        "committee": {"required_roles": ["decision_maker"], "min_engaged_contacts": 2, "require": "all"},
    },
    "disqualifiers": [
        {"id": "competitor", "reason_code": "competitor", "kind": "competitor_domain", "domains": ["rival.com"]},
        {
            "id": "student",
            "reason_code": "student",
            "kind": "condition",
            "when": {"field": "contact.email_domain", "regex": r"\.edu$"},
        },
        {"id": "customer", "reason_code": "existing_customer", "kind": "existing_customer"},
        {"id": "consent", "reason_code": "no_consent", "kind": "no_consent"},
    ],
    "hand_raisers": [{"id": "hand.demo", "touch_types": ["demo_request"], "min_fit_grade": "C", "within_days": 30}],
    "mql": {"min_fit_grade": "B", "min_engagement_score": 30, "min_account_score": 40, "committee_required": True},
    "rejection_reasons": [{"code": "bad_timing", "label": "Bad timing"}, {"code": "duplicate", "label": "Duplicate"}],
    "sla": {
        "accept_within_business_hours": 8,
        "business_hours": {"timezone": "Europe/Paris", "start": "09:00", "end": "18:00"},
        "on_breach": "escalate",
    },
    "recycle": {
        "bad_timing": {"action": "nurture", "track_id": "not-now", "wait_days": 90},
        "duplicate": {"action": "close"},
    },
}

GOOD_CONTACT: dict[str, object] = {"title": "VP Operations", "email": "ann@acme.com", "email_domain": "acme.com"}
GOOD_ACCOUNT: dict[str, object] = {"industry": "Software", "employees": 250, "domain": "acme.com"}


def base_doc() -> dict[str, Any]:
    """A fresh copy of the test definition document, safe to edit."""
    return copy.deepcopy(BASE)


def make_definition(doc: dict[str, Any] | None = None) -> LeadDefinition:
    """The test definition, or an edited copy of it."""
    return parse_definition(doc if doc is not None else base_doc())


def example_doc() -> dict[str, Any]:
    """The shipped example definition, as a document."""
    doc = yaml.safe_load(EXAMPLE_PATH.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def touch(touch_id: str, days_ago: float, touch_type: str, **fields: Any) -> Touch:
    """A touch `days_ago` days before NOW."""
    return Touch(touch_id=touch_id, occurred_at=NOW - timedelta(days=days_ago), touch_type=touch_type, **fields)
