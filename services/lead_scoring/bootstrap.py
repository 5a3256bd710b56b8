"""Wires the lead_scoring service: settings, database, event log, handlers and routes."""

from __future__ import annotations

from events.topics import FEEDBACK, TOUCHES
from kernel.service import Context, Loop, ServiceParts, Subscription
from services.lead_scoring.definitions.api import router as definitions_router
from services.lead_scoring.ingest.api import router as ingest_router
from services.lead_scoring.leads.api import router as leads_router
from services.lead_scoring.leads.handlers import handlers
from services.lead_scoring.leads.rescoring import Rescorer
from services.lead_scoring.simulation.api import router as simulation_router
from services.lead_scoring.simulation.jobs import SimulationRunner


def bootstrap(context: Context) -> ServiceParts:
    """The lead_scoring service's routers, its consumer group, and the rescoring and simulation loops."""
    return ServiceParts(
        name="lead_scoring",
        routers=[ingest_router, leads_router, definitions_router, simulation_router],
        subscriptions=[Subscription(group="lead_scoring", topics=[TOUCHES, FEEDBACK], handlers=handlers())],
        loops=[Loop(Rescorer(context.log).run), Loop(SimulationRunner(context.log).run)],
    )
