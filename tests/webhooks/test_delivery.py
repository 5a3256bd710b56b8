"""Delivery against real HTTP receivers: retries, Retry-After, dead letters, slow subscribers, SSRF at send time."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import Engine

from events.envelope import utc_now
from services.webhooks import handlers
from services.webhooks.sender import Sender
from tests.webhooks.support import (
    Clock,
    Receiver,
    accepted,
    deliveries,
    dispatcher,
    fan_out,
    publish,
    receiving,
    subscribe,
    uow_for,
)
from tests.webhooks.test_drill import run_until


def answers(*statuses: tuple[int, dict[str, str]]) -> Receiver:
    """A receiver answering `statuses` in turn, then 200 for ever."""
    queue = list(statuses)
    return Receiver(answer=lambda headers, body: queue.pop(0) if queue else (200, {}))


@pytest.mark.parametrize("status", [429, 408])
def test_retry_after_in_seconds_or_as_a_date_is_honoured(sqlite_engine: Engine, clock: Clock, status: int) -> None:
    later = format_datetime(clock.now + timedelta(seconds=120), usegmt=True)
    retry_after = "120" if status == 429 else later
    with receiving(answers((status, {"retry-after": retry_after}))) as receiver:
        subscribe(sqlite_engine, receiver.url)
        publish(sqlite_engine, [accepted("acme.com")])
        fan_out(sqlite_engine, expected=1)
        loop = dispatcher(sqlite_engine, clock)
        try:
            loop.step()
            loop.settle()
            [row] = deliveries(sqlite_engine)
            assert (row.status, row.last_response_code, row.attempts) == ("pending", status, 1)
            assert row.next_attempt_at == clock.now + timedelta(seconds=120)
            clock.advance(seconds=119)
            loop.step()
            loop.settle()
            assert len(receiver.all()) == 1  # not before the time asked
            clock.advance(seconds=1)
            loop.step()
            loop.settle()
        finally:
            loop.close()
    [row] = deliveries(sqlite_engine)
    assert (row.status, row.attempts, len(receiver.all())) == ("delivered", 2, 2)


def test_a_410_is_dead_at_once_the_line_moves_on_and_it_can_be_sent_again(sqlite_engine: Engine, clock: Clock) -> None:
    with receiving(answers((410, {}))) as receiver:
        subscription_id, _ = subscribe(sqlite_engine, receiver.url)
        first, second = accepted("acme.com"), accepted("acme.com")
        publish(sqlite_engine, [first, second])
        fan_out(sqlite_engine, expected=2)
        loop = dispatcher(sqlite_engine, clock)
        try:
            run_until(loop, clock, lambda: len(receiver.accepted()) == 1)
            dead, delivered = deliveries(sqlite_engine)
            assert (dead.status, dead.attempts, dead.last_response_code) == ("dead", 1, 410)
            assert dead.last_error is not None
            assert dead.last_error.startswith("HTTP 410")
            assert delivered.status == "delivered"
            assert [r.webhook_id for r in receiver.all()] == [str(first.id), str(second.id)]

            with uow_for(sqlite_engine) as uow:
                handlers.resend(uow, subscription_id, dead.id, clock.now)
            run_until(loop, clock, lambda: len(receiver.accepted()) == 2)
        finally:
            loop.close()
    assert [r.webhook_id for r in receiver.accepted()] == [str(second.id), str(first.id)]  # same id when sent again
    assert {row.status for row in deliveries(sqlite_engine)} == {"delivered"}


def test_a_timeout_is_retried(sqlite_engine: Engine, clock: Clock) -> None:
    with receiving(Receiver(delay_s=1.0)) as receiver:
        subscribe(sqlite_engine, receiver.url)
        publish(sqlite_engine, [accepted("acme.com")])
        fan_out(sqlite_engine, expected=1)
        loop = dispatcher(sqlite_engine, clock, timeout_s=0.2)
        try:
            loop.step()
            loop.settle()
        finally:
            loop.close()
    [row] = deliveries(sqlite_engine)
    assert (row.status, row.attempts, row.last_response_code) == ("pending", 1, None)
    assert row.last_error == "no answer within 0.2 s"
    assert row.next_attempt_at == clock.now + timedelta(seconds=5)


def test_a_slow_subscriber_does_not_hold_up_a_fast_one(sqlite_engine: Engine) -> None:
    """The slow receiver takes 2 s per request; every fast delivery arrives before the slow one's first answer."""
    with receiving(Receiver(delay_s=2.0)) as slow, receiving() as fast:
        subscribe(sqlite_engine, slow.url)
        subscribe(sqlite_engine, fast.url)
        events = [accepted(f"account-{n % 4}.com") for n in range(12)]
        publish(sqlite_engine, events)
        fan_out(sqlite_engine, expected=24)
        # The wall clock here: the slow receiver sleeps in real time.
        loop = dispatcher(sqlite_engine, utc_now, per_subscription=2, idle_s=0.05)
        stop = threading.Event()
        thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
        started = time.monotonic()
        thread.start()
        try:
            while len(fast.accepted()) < len(events):
                assert time.monotonic() - started < 60, "the fast receiver did not get its events"
                time.sleep(0.01)
            fast_done, slow_answered = time.monotonic() - started, len(slow.all())
        finally:
            stop.set()
            thread.join(30)
    print(f"fast subscriber: {len(events)} deliveries in {fast_done:.2f} s; slow one answered {slow_answered} by then")
    assert slow_answered == 0  # the fast one was served entirely while the slow one held its first requests


def test_in_production_a_host_resolving_to_loopback_is_refused_at_sending_time(sqlite_engine: Engine) -> None:
    with receiving() as receiver:
        subscribe(sqlite_engine, receiver.url)  # taken in local mode; the DNS answer "changed" since
        publish(sqlite_engine, [accepted("acme.com")])
        fan_out(sqlite_engine, expected=1)
        clock = Clock()
        loop = dispatcher(sqlite_engine, clock, sender=Sender(guard=True))
        try:
            loop.step()
            loop.settle()
        finally:
            loop.close()
    [row] = deliveries(sqlite_engine)
    assert receiver.all() == []
    assert (row.status, row.attempts) == ("dead", 1)
    assert "refused: 127.0.0.1 resolves to a forbidden address: 127.0.0.1 is a loopback address" in (
        row.last_error or ""
    )


def test_the_guard_sends_to_the_address_it_checked_keeping_the_host_name(sqlite_engine: Engine) -> None:
    with receiving() as receiver:
        by_name = receiver.url.replace("127.0.0.1", "localhost")
        subscribe(sqlite_engine, by_name)
        publish(sqlite_engine, [accepted("acme.com")])
        fan_out(sqlite_engine, expected=1)
        pinned = Sender(guard=True, resolver=lambda host, port: ["127.0.0.1"], allowed=lambda address: None)
        loop = dispatcher(sqlite_engine, Clock(), sender=pinned)
        try:
            loop.step()
            loop.settle()
        finally:
            loop.close()
    [got] = receiver.all()
    assert got.headers["host"] == by_name.split("/")[2]
    assert deliveries(sqlite_engine)[0].status == "delivered"


def test_an_event_is_fanned_out_once_however_often_the_log_carries_it(sqlite_engine: Engine) -> None:
    subscribe(sqlite_engine, "http://127.0.0.1:9/hook")
    paused, _ = subscribe(sqlite_engine, "http://127.0.0.1:9/paused")
    with uow_for(sqlite_engine) as uow:
        handlers.update_subscription(uow, paused, {"active": False}, Clock().now)
    event, last = accepted("acme.com"), accepted("globex.com")
    publish(sqlite_engine, [event, event])
    publish(sqlite_engine, [event, last])  # read after the duplicates: once it is fanned out, they were too

    fan_out(sqlite_engine, expected=2)

    rows = deliveries(sqlite_engine)
    assert [row.event_id for row in rows] == [event.id, last.id]


def test_a_delivery_waits_behind_its_line_without_a_time_and_keeps_its_first_attempt(
    sqlite_engine: Engine, clock: Clock
) -> None:
    failed: list[bytes] = []

    def acme_fails_once(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        if b'"acme.com"' in body and not failed:
            failed.append(body)
            return 500, {}
        return 200, {}

    with receiving(Receiver(answer=acme_fails_once)) as receiver:
        subscribe(sqlite_engine, receiver.url)
        publish(sqlite_engine, [accepted("acme.com"), accepted("acme.com"), accepted("globex.com")])
        fan_out(sqlite_engine, expected=3)
        head, behind, other = deliveries(sqlite_engine)
        assert (head.next_attempt_at, behind.next_attempt_at, other.next_attempt_at) == (clock.now, None, clock.now)
        loop = dispatcher(sqlite_engine, clock)
        try:
            loop.step()
            loop.settle()
            first_try = clock.now
            head, behind, _ = deliveries(sqlite_engine)
            assert (head.status, head.first_attempt_at, behind.next_attempt_at) == ("pending", first_try, None)
            clock.advance(seconds=5)
            run_until(loop, clock, lambda: len(receiver.accepted()) == 3)
        finally:
            loop.close()
    head, behind, _ = deliveries(sqlite_engine)
    assert (head.attempts, head.first_attempt_at, head.status) == (2, first_try, "delivered")
    assert behind.status == "delivered"
    assert behind.delivered_at is not None
    assert head.delivered_at is not None
    assert behind.delivered_at >= head.delivered_at
