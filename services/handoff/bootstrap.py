"""Wires the handoff service: settings, database, event log and handlers."""

from __future__ import annotations

from kernel.service import Context, ServiceParts


def bootstrap(context: Context) -> ServiceParts:
    """The handoff service's routers and subscriptions (none yet: its issue builds them)."""
    return ServiceParts(name="handoff")
