"""The dispatcher: a loop that claims due deliveries, sends them on a small pool of threads, and records each answer."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter

from eventlog.health import Heartbeat
from eventlog.loop import run_loop
from eventlog.unit_of_work import UnitOfWork
from events.envelope import utc_now
from services.webhooks import handlers
from services.webhooks.domain import Attempt, Outgoing
from services.webhooks.sender import Sender

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

ATTEMPTS = Counter("leadflow_webhook_attempts_total", "Webhook POSTs, by what they left the delivery", ["status"])
RETRIED = Counter("leadflow_webhook_transient_faults_total", "Dispatcher steps retried after a transient fault")


@dataclass(frozen=True)
class _Sent:
    outgoing: Outgoing
    attempt: Attempt


class Dispatcher:
    """Sends due deliveries, `per_subscription` at most at once per subscription on a pool of `workers` threads.

    A subscription waiting for its backoff, or slow to answer, holds only its own lines: the others' due deliveries
    are claimed and sent meanwhile. A claimed delivery is leased (not due again) for `lease`, so a dispatcher that
    dies mid-send leaves it to be sent again later; the receiver sees the same `webhook-id` and can drop it.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        sender: Sender,
        clock: Clock = utc_now,
        jitter: Callable[[], float] = random.random,
        workers: int = 16,
        per_subscription: int = 4,
        batch_size: int = 100,
        idle_s: float = 0.5,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self._uow = uow
        self._sender = sender
        self._clock = clock
        self._jitter = jitter
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="webhook-send")
        self._per_subscription = per_subscription
        self._batch_size = batch_size
        self._idle_s = idle_s
        self._lease = lease
        self._in_flight: dict[Future[Attempt], Outgoing] = {}
        self._finished: list[_Sent] = []  # answered, not yet recorded (kept across a database fault)
        self.heartbeat = Heartbeat("webhooks:dispatcher")

    def run(self, stop: threading.Event) -> None:
        """Dispatch until `stop` is set; transient database faults back off and retry (the one background loop)."""
        try:
            run_loop("webhooks", self._turn, stop, heartbeat=self.heartbeat, on_fault=lambda _: RETRIED.inc())
        finally:
            self.close()

    def _turn(self) -> float:
        """A step for the loop: with nothing to do but sends in flight, wait (a little) for the first to answer, so
        that the next delivery of its line goes at once; with nothing at all, rest `idle_s`."""
        worked = self.step()
        self.heartbeat.progressed()
        if worked:
            return 0.0
        if self._in_flight:
            wait(list(self._in_flight), timeout=self._idle_s, return_when=FIRST_COMPLETED)
            return 0.0
        return self._idle_s

    def step(self) -> int:
        """Record the answers that came in, then claim and start the due deliveries; how many of both."""
        recorded = self._record_finished()
        return recorded + self._start_due()

    def settle(self, timeout_s: float = 30.0) -> int:
        """Wait for every send in flight and record the answers; how many (tests step with this)."""
        wait(list(self._in_flight), timeout=timeout_s)
        return self._record_finished()

    def in_flight(self) -> int:
        """Deliveries being sent now."""
        return len(self._in_flight)

    def close(self) -> None:
        """Let the sends in flight finish (each within the sender's timeout), record them, release the pool."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        try:
            self._record_finished()
        except Exception:  # leased rows are sent again after the lease: nothing is lost
            log.exception("webhooks: could not record the last answers")
        self._sender.close()

    def _start_due(self) -> int:
        busy = [(o.delivery_id, o.subscription_id, o.account_key) for o in self._pending_outgoing()]
        with self._uow as uow:
            claimed = handlers.claim_due(
                uow,
                now=self._clock(),
                limit=self._batch_size,
                in_flight=busy,
                per_subscription=self._per_subscription,
                lease=self._lease,
            )
        for outgoing in claimed:
            self._in_flight[self._pool.submit(self._send, outgoing)] = outgoing
        return len(claimed)

    def _send(self, outgoing: Outgoing) -> Attempt:
        try:
            return self._sender.send(outgoing, self._clock())
        except Exception as error:  # a bug of ours must not lose the delivery: it is retried like a timeout
            log.exception("webhooks: sending delivery %s failed", outgoing.delivery_id)
            return Attempt(None, f"sender failed: {type(error).__name__}: {error}")

    def _pending_outgoing(self) -> list[Outgoing]:
        return [*self._in_flight.values(), *(sent.outgoing for sent in self._finished)]

    def _record_finished(self) -> int:
        for future in [future for future in self._in_flight if future.done()]:
            outgoing = self._in_flight.pop(future)
            if not future.cancelled():  # one never sent is sent when its lease ends, as if the dispatcher had died
                self._finished.append(_Sent(outgoing, future.result()))
        if not self._finished:
            return 0
        finished = self._finished
        with self._uow as uow:
            statuses = handlers.record_attempts(
                uow,
                [(sent.outgoing.delivery_id, sent.attempt) for sent in finished],
                now=self._clock(),
                jitter=self._jitter,
            )
        self._finished = []
        for sent, status in zip(finished, statuses, strict=True):
            ATTEMPTS.labels(status).inc()
            if status == "dead":
                log.warning(
                    "webhooks: delivery %s of event %s to subscription %s is dead: %s",
                    sent.outgoing.delivery_id,
                    sent.outgoing.event_id,
                    sent.outgoing.subscription_id,
                    sent.attempt.error or sent.attempt.status_code,
                )
        return len(finished)
