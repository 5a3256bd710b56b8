"""Wires the nurture service: settings, database, event log and handlers."""

from __future__ import annotations

from kernel.service import Context, ServiceParts
from services.nurture.tracks.api import router as tracks_router


def bootstrap(context: Context) -> ServiceParts:
    """The nurture service's routers and subscriptions."""
    return ServiceParts(name="nurture", routers=[tracks_router])
