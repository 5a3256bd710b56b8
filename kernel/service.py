"""What a service's bootstrap hands the runtime: its HTTP routers and its subscriptions to the event log."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter
from sqlalchemy import Engine

from eventlog.backends import EventLog
from eventlog.health import Heartbeat
from eventlog.processor import Handler, Handlers
from kernel.settings import Settings
from timers.scheduler import TimerHandler


@dataclass(frozen=True)
class Subscription:
    """A consumer group of a service: the topics it reads and a handler per event type."""

    group: str
    topics: Sequence[str]
    handlers: Handlers | Mapping[str, Handler]


@dataclass(frozen=True)
class Loop:
    """A background loop of a service: `run(stop)`, and its heartbeat if it has one (readiness reads it)."""

    run: Callable[[threading.Event], None]
    heartbeat: Heartbeat | None = None


@dataclass(frozen=True)
class ServiceParts:
    """A service, wired: what the runtime mounts and runs."""

    name: str
    routers: Sequence[APIRouter] = field(default_factory=tuple)
    subscriptions: Sequence[Subscription] = field(default_factory=tuple)
    loops: Sequence[Loop] = field(default_factory=tuple)
    timer_handlers: Mapping[tuple[str, str], TimerHandler] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What every bootstrap receives."""

    settings: Settings
    engine: Engine
    log: EventLog
