"""Wires the webhooks service: the admin API, the consumer group that fans events out, the dispatcher loop."""

from __future__ import annotations

import threading

from eventlog.health import Heartbeat
from kernel.service import Context, Loop, ServiceParts, Subscription
from services.webhooks.api import router
from services.webhooks.dispatcher import Dispatcher
from services.webhooks.handlers import OUTGOING_TOPICS, handlers
from services.webhooks.sender import Sender

GROUP = "webhooks"
REQUEST_TIMEOUT_S = 10.0


def dispatcher(context: Context) -> Dispatcher:
    """The dispatcher of the settings: outside local mode, every request goes to a checked, global address."""
    guard = context.settings.environment == "production"
    return Dispatcher(uow=context.log.unit_of_work(), sender=Sender(timeout_s=REQUEST_TIMEOUT_S, guard=guard))


def bootstrap(context: Context) -> ServiceParts:
    """The webhooks service's router, its consumer group over the outgoing topics, and the dispatcher."""

    heartbeat = Heartbeat("webhooks:dispatcher")

    def dispatch(stop: threading.Event) -> None:
        running = dispatcher(context)  # built when run, so a process that only mounts the routes opens no pool
        running.heartbeat = heartbeat
        running.run(stop)

    return ServiceParts(
        name="webhooks",
        routers=[router],
        subscriptions=[Subscription(group=GROUP, topics=OUTGOING_TOPICS, handlers=handlers())],
        loops=[Loop(dispatch, heartbeat)],
    )
