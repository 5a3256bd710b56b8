"""Wires the lead_scoring service: settings, database, event log, handlers and routes."""

from __future__ import annotations

from events.topics import FEEDBACK, TOUCHES
from kernel.service import Context, Loop, ServiceParts, Subscription
from services.lead_scoring.api import router as leads_router
from services.lead_scoring.api_definitions import router as definitions_router
from services.lead_scoring.api_simulation import router as simulation_router
from services.lead_scoring.handlers import handlers
from services.lead_scoring.rescoring import Rescorer


def bootstrap(context: Context) -> ServiceParts:
    """The lead_scoring service's routers, its consumer group and the rescoring loop."""
    return ServiceParts(
        name="lead_scoring",
        routers=[leads_router, definitions_router, simulation_router],
        subscriptions=[Subscription(group="lead_scoring", topics=[TOUCHES, FEEDBACK], handlers=handlers())],
        loops=[Loop(Rescorer(context.log).run)],
    )
