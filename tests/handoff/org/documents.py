"""Routing documents for the org tests: a small valid one, changed by the test that needs it."""

from __future__ import annotations

import copy
from typing import Any

WEEKDAYS = {day: ["09:00-17:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}

SMALL: dict[str, Any] = {
    "calendars": {
        "berlin": {"time_zone": "Europe/Berlin", "working_hours": WEEKDAYS, "holidays": {"country": "DE"}},
        "new_york": {"time_zone": "America/New_York", "working_hours": WEEKDAYS, "holidays": {"country": "US"}},
    },
    "teams": [
        {"name": "emea", "manager": "mia@acme.example", "region": "EMEA"},
        {"name": "na", "manager": "noah@acme.example", "region": "North America"},
    ],
    "reps": [
        {"email": "mia@acme.example", "name": "Mia Manager", "team": "emea", "role": "manager", "calendar": "berlin"},
        {"email": "ana@acme.example", "name": "Ana", "team": "emea", "calendar": "berlin", "owns_accounts": ["bmw.de"]},
        {"email": "ben@acme.example", "name": "Ben", "team": "emea", "calendar": "berlin", "weight": 2},
        {"email": "noah@acme.example", "name": "Noah", "team": "na", "role": "manager", "calendar": "new_york"},
        {"email": "nia@acme.example", "name": "Nia", "team": "na", "calendar": "new_york"},
    ],
    "rules": [
        {
            "name": "Strategic accounts",
            "conditions": [{"field": "fit_grade", "eq": "A"}, {"field": "region", "eq": "EMEA"}],
            "target": {"kind": "rep", "rep": "ana@acme.example"},
        },
        {
            "name": "EMEA",
            "conditions": [{"field": "region", "in": ["EMEA"]}],
            "target": {"kind": "pool", "team": "emea"},
        },
        {"name": "Everyone else", "target": {"kind": "pool", "team": "na"}, "respect_working_hours": True},
    ],
}


def small(**changes: Any) -> dict[str, Any]:
    """A deep copy of SMALL with top-level sections replaced."""
    document = copy.deepcopy(SMALL)
    document.update(changes)
    return document
