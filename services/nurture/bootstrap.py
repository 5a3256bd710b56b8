"""Wires the nurture service: settings, database, event log and handlers."""

from __future__ import annotations

from kernel.service import Context, ServiceParts, Subscription
from services.nurture import consumer
from services.nurture.enrollment.book import StoredTracks
from services.nurture.enrollment.handlers import OWNER, RECYCLE_DUE, STEP_DUE
from services.nurture.reporting.api import router as reporting_router
from services.nurture.scheduling import recycle_due, step_due
from services.nurture.tracks.api import router as tracks_router


def bootstrap(context: Context) -> ServiceParts:
    """The nurture service's routers, its consumer group and its step and recycle timers."""
    book = StoredTracks()
    return ServiceParts(
        name="nurture",
        routers=[tracks_router, reporting_router],
        subscriptions=[Subscription(group=consumer.GROUP, topics=consumer.TOPICS, handlers=consumer.handlers(book))],
        timer_handlers={(OWNER, STEP_DUE): step_due(book), (OWNER, RECYCLE_DUE): recycle_due(book)},
    )
