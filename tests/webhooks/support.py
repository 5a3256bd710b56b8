"""What the webhook tests share: a real HTTP receiver on 127.0.0.1, a clock the test moves, events and subscriptions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Engine, func, select

from eventlog.backends import SqlEventLog, processor
from eventlog.unit_of_work import UnitOfWork
from events.catalog import HandoffAccepted, NurtureExited
from events.registry import Event, new_event
from services.webhooks import handlers
from services.webhooks.dispatcher import Dispatcher
from services.webhooks.models import WebhookDelivery
from services.webhooks.sender import Sender

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test sets; the dispatcher reads it instead of the wall clock (read from several threads)."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class Received:
    """One POST as the receiver saw it."""

    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def webhook_id(self) -> str:
        """The `webhook-id` header."""
        return self.headers["webhook-id"]

    def event(self) -> dict[str, Any]:
        """The CloudEvent posted."""
        return dict(json.loads(self.body))


# How the receiver answers a request: a status and extra headers.
Answer = Callable[[dict[str, str], bytes], tuple[int, dict[str, str]]]


@dataclass
class Receiver:
    """A threaded HTTP server that records every POST and answers as `answer` says, after `delay_s`."""

    answer: Answer = lambda headers, body: (200, {})
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def accepted(self) -> list[Received]:
        """The POSTs answered 2xx, in the order they came."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def all(self) -> list[Received]:
        """Every POST, in the order they came."""
        with self.lock:
            return list(self.received)


@contextmanager
def receiving(receiver: Receiver | None = None, host: str = "127.0.0.1") -> Iterator[Receiver]:
    """Run `receiver` on a free port of 127.0.0.1 for the block."""
    this = receiver or Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            if this.delay_s:
                time.sleep(this.delay_s)
            status, extra = this.answer(headers, body)
            with this.lock:
                this.received.append(Received(headers, body, status))
            try:
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):  # the sender gave up waiting: a timeout, as intended
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    this.url = f"http://{host}:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield this
    finally:
        server.shutdown()
        server.server_close()


def verify_by_hand(secret: str, received: Received) -> bool:
    """Check the Standard Webhooks signature without the sender's code: HMAC-SHA256 of id.timestamp.body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}.".encode() + received.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [part.split(",", 1) for part in received.headers["webhook-signature"].split(" ")]
    return any(version == "v1" and hmac.compare_digest(value, expected) for version, value in offered)


def uow_for(engine: Engine) -> UnitOfWork:
    """A unit of work on `engine`'s SQL event log."""
    return SqlEventLog(engine).unit_of_work()


def subscribe(engine: Engine, url: str, types: Sequence[str] = ("leadflow.handoff.accepted.v1",)) -> tuple[Any, str]:
    """A subscription of `url` to `types`: its id and secret."""
    with uow_for(engine) as uow:
        row, secret = handlers.create_subscription(
            uow, url=url, event_types=list(types), description=None, active=True, now=T0
        )
    return row.id, secret


def accepted(key: str, *, at: datetime = T0) -> Event[HandoffAccepted]:
    """A `handoff.accepted` event of account `key`."""
    data = HandoffAccepted(
        handoff_id=uuid.uuid4(), lead_id=uuid.uuid4(), contact_id=uuid.uuid4(), rep_id=uuid.uuid4(), within_sla=True
    )
    return new_event(data, key=key, time=at, source="handoff")


def exited(key: str, *, at: datetime = T0) -> Event[NurtureExited]:
    """A `nurture.exited` event of account `key`."""
    data = NurtureExited(
        enrollment_id=uuid.uuid4(),
        lead_id=uuid.uuid4(),
        contact_id=uuid.uuid4(),
        track_id="awareness",
        reason="completed",
        last_step=3,
    )
    return new_event(data, key=key, time=at, source="nurture")


def publish(engine: Engine, events: Sequence[Event[Any]]) -> None:
    """Emit `events` to the SQL event log in one transaction."""
    with uow_for(engine) as uow:
        for event in events:
            uow.emit(event)
        uow.commit()


def deliveries(engine: Engine) -> list[WebhookDelivery]:
    """Every delivery row, in id order."""
    with uow_for(engine) as uow:
        rows = list(uow.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        uow.session.expunge_all()  # readable after the unit of work rolls back
        return rows


def count_deliveries(engine: Engine) -> int:
    """How many delivery rows there are."""
    with uow_for(engine) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0)


def fan_out(engine: Engine, expected: int, timeout_s: float = 30) -> None:
    """Run the `webhooks` consumer group over the log until `expected` deliveries exist."""
    log = SqlEventLog(engine)
    loop = processor(log, group="webhooks", topics=handlers.OUTGOING_TOPICS, handlers=handlers.handlers())
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    try:
        while count_deliveries(engine) < expected:
            assert time.monotonic() < deadline, f"only {count_deliveries(engine)} of {expected} deliveries appeared"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)


def dispatcher(engine: Engine, clock: Callable[[], datetime], *, jitter: float = 1.0, **options: Any) -> Dispatcher:
    """A dispatcher on `engine` reading `clock`, with a fixed jitter so that backoffs are known."""
    sender = options.pop("sender", None) or Sender(timeout_s=options.pop("timeout_s", 5.0))
    return Dispatcher(uow=uow_for(engine), sender=sender, clock=clock, jitter=lambda: jitter, **options)
