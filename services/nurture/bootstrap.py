"""Wires the nurture service: settings, database, event log and handlers."""

from __future__ import annotations

from kernel.service import Context, ServiceParts


def bootstrap(context: Context) -> ServiceParts:
    """The nurture service's routers and subscriptions (none yet: its issue builds them)."""
    return ServiceParts(name="nurture")
