"""The composition root: builds the services, runs their consumers and the relay, and serves the HTTP API."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text

from database.engine import make_engine
from eventlog.backends import EventLog, KafkaEventLog, SqlEventLog, processor
from eventlog.health import Heartbeat
from eventlog.kafka import ensure_topics
from events.topics import ALL as ALL_TOPICS
from events.topics import dead_letter_topic
from kernel import problems
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem
from kernel.service import Context, ServiceParts
from kernel.settings import Settings
from leadflow import operations
from timers.scheduler import Scheduler

log = logging.getLogger(__name__)

SERVICES = {
    "lead-scoring": "services.lead_scoring.bootstrap",
    "nurture": "services.nurture.bootstrap",
    "handoff": "services.handoff.bootstrap",
    "webhooks": "services.webhooks.bootstrap",
}


def open_event_log(settings: Settings, engine: Engine) -> EventLog:
    """The event log the settings name."""
    if settings.event_log == "kafka":
        prefix = settings.kafka_topic_prefix
        topics = [prefix + topic for topic in (*ALL_TOPICS, *(dead_letter_topic(topic) for topic in ALL_TOPICS))]
        ensure_topics(settings.kafka_bootstrap, topics, settings.kafka_partitions)
        return KafkaEventLog(engine, settings.kafka_bootstrap, topic_prefix=prefix)
    return SqlEventLog(engine)


def build_services(names: Sequence[str], context: Context) -> list[ServiceParts]:
    """Bootstrap the named services."""
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(sorted(unknown))}; choose from {', '.join(SERVICES)}")
    return [importlib.import_module(SERVICES[name]).bootstrap(context) for name in names]


@dataclass
class Workers:
    """Background threads: one per consumer group, plus the relay where the log has one."""

    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    heartbeats: list[Heartbeat] = field(default_factory=list)

    def start(self, name: str, target: Callable[[threading.Event], None], heartbeat: Heartbeat | None = None) -> None:
        """Run `target(stop)` in a daemon thread named `name`; its heartbeat, if it has one, feeds readiness."""
        thread = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)
        if heartbeat is not None:
            self.heartbeats.append(heartbeat)

    def dead(self) -> list[str]:
        """Names of threads that died."""
        return [thread.name for thread in self.threads if not thread.is_alive()]

    def problems(self, stuck_after_s: float) -> list[str]:
        """Why the workers are not healthy: each dead thread and each loop stuck past `stuck_after_s`."""
        dead = [f"{name}: thread died" for name in self.dead()]
        stuck = [problem for beat in self.heartbeats if (problem := beat.problem(stuck_after_s))]
        return dead + stuck

    def shutdown(self, timeout_s: float = 30) -> None:
        """Ask every loop to finish its batch, and wait for it."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=timeout_s)


def timer_scheduler(context: Context, parts: Sequence[ServiceParts]) -> Scheduler:
    """The scheduler of the services' timers; a timer of an owner or kind none of them handles is dead-lettered."""
    handlers = {key: handler for service in parts for key, handler in service.timer_handlers.items()}
    return Scheduler(uow=context.log.unit_of_work(), handlers=handlers, batch_size=context.settings.batch_size)


def start_workers(
    context: Context, parts: Sequence[ServiceParts], *, run_relay: bool, run_scheduler: bool = False
) -> Workers:
    """Start every subscription's consumer loop, and the relay if asked and the log has one."""
    workers = Workers()
    for service in parts:
        for subscription in service.subscriptions:
            loop = processor(
                context.log,
                group=subscription.group,
                topics=subscription.topics,
                handlers=subscription.handlers,
                batch_size=context.settings.batch_size,
            )
            workers.start(f"consumer:{subscription.group}", loop.run, loop.heartbeat)
        for number, background in enumerate(service.loops):
            workers.start(f"{service.name}:loop{number}", background.run, background.heartbeat)
    relay = context.log.relay() if run_relay else None
    if relay is not None:
        workers.start("relay", relay.run, relay.heartbeat)
    if run_scheduler:
        workers.start("scheduler", timer_scheduler(context, parts).run)
    return workers


def create_app(
    settings: Settings,
    services: Sequence[str] = tuple(SERVICES),
    *,
    run_relay: bool = True,
    run_scheduler: bool = True,
) -> FastAPI:
    """The HTTP API of `services`, with their consumers running for the app's lifetime."""
    engine = make_engine(settings.database_url)
    context = Context(settings=settings, engine=engine, log=open_event_log(settings, engine))
    parts = build_services(services, context)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.workers = start_workers(context, parts, run_relay=run_relay, run_scheduler=run_scheduler)
        log.info("leadflow started: services %s on the %s event log", ", ".join(services), context.log.name)
        yield
        app.state.workers.shutdown()
        engine.dispose()

    app = FastAPI(
        title="leadflow",
        version="0.1.0",
        description="Lead management between B2B marketing and sales.",
        lifespan=lifespan,
    )
    app.router.route_class = LimitedRoute
    app.state.settings = settings
    app.state.context = context
    problems.install(app)
    _add_operations_routes(app, engine)
    app.include_router(operations.router)
    for service in parts:
        for router in service.routers:
            app.include_router(router)
    return app


def _add_operations_routes(app: FastAPI, engine: Engine) -> None:
    @app.get("/health", tags=["operations"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], responses=problems.responses(503))
    def ready() -> dict[str, str]:
        """Readiness: the database answers and every worker thread is alive."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            raise Problem(503, "Not ready", f"database unreachable: {error}") from None
        workers: Workers | None = getattr(app.state, "workers", None)
        troubles = workers.problems(app.state.settings.stuck_after_s) if workers else []
        if troubles:
            raise Problem(503, "Not ready", "; ".join(troubles), problems=troubles)
        return {"status": "ready"}

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"description": "Prometheus text format.", "content": {"text/plain": {}}}},
    )
    def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
