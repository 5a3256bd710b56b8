"""Wires the lead_scoring service: settings, database, event log and handlers."""

from __future__ import annotations

from leadflow.service import Context, ServiceParts


def bootstrap(context: Context) -> ServiceParts:
    """The lead_scoring service's routers and subscriptions (none yet: its issue builds them)."""
    return ServiceParts(name="lead_scoring")
