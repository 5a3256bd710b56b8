"""Wires the lead_scoring service: settings, database, event log, handlers and routes."""

from __future__ import annotations

from leadflow.service import Context, ServiceParts
from services.lead_scoring.api_definitions import router as definitions_router


def bootstrap(context: Context) -> ServiceParts:
    """The lead_scoring service's routers and subscriptions."""
    return ServiceParts(name="lead_scoring", routers=[definitions_router])
