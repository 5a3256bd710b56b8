"""Wires the handoff service: the sales org's API, the reps' API, the consumer of qualified leads, the SLA timers."""

from __future__ import annotations

from events.topics import DEFINITIONS, LEADS
from kernel.service import Context, ServiceParts, Subscription
from services.handoff.escalation.handlers import timer_handlers
from services.handoff.insights.api import router as insights_router
from services.handoff.intake.handlers import GROUP, handlers
from services.handoff.org.api import router as routing_router
from services.handoff.queue.api import router as queue_router


def bootstrap(context: Context) -> ServiceParts:
    """The handoff service's routers, its consumer group over the leads and definitions topics, its timers."""
    return ServiceParts(
        name="handoff",
        routers=[routing_router, queue_router, insights_router],
        subscriptions=[Subscription(group=GROUP, topics=[LEADS, DEFINITIONS], handlers=handlers())],
        timer_handlers=timer_handlers(),
    )
