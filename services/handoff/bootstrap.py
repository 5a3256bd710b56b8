"""Wires the handoff service: settings, database, event log and handlers."""

from __future__ import annotations

from kernel.service import Context, ServiceParts
from services.handoff.org.api import router as routing_router


def bootstrap(context: Context) -> ServiceParts:
    """The handoff service's routers and subscriptions (the routing configuration API so far)."""
    return ServiceParts(name="handoff", routers=[routing_router])
