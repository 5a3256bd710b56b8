"""The webhook drill: a receiver down for its first 30 seconds gets every event once, in order, signed."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from services.webhooks.dispatcher import Dispatcher
from services.webhooks.domain import Attempt, Outgoing
from services.webhooks.sender import Sender
from tests.webhooks.support import (
    T0,
    Clock,
    Receiver,
    accepted,
    deliveries,
    dispatcher,
    exited,
    fan_out,
    publish,
    receiving,
    subscribe,
    verify_by_hand,
)


class CountingSender(Sender):
    """A sender that counts what it sends."""

    sent = 0

    def send(self, outgoing: Outgoing, now: datetime) -> Attempt:
        """Send, and count."""
        self.sent += 1
        return super().send(outgoing, now)


KEYS = ("acme.com", "globex.com", "initech.com", "jane@gmail.com")


def run_until(loop: Dispatcher, clock: Clock, done: Callable[[], bool], *, tick_s: float = 1, limit: int = 600) -> int:
    """Step the dispatcher, wait for its sends, move the clock a tick; until `done`. The ticks it took."""
    for tick in range(limit):
        loop.step()
        loop.settle()
        if done():
            return tick
        clock.advance(seconds=tick_s)
    raise AssertionError(f"not done after {limit} ticks")


def test_a_receiver_down_for_30_seconds_gets_every_event_once_in_order_per_account_signed(
    engine: Engine, clock: Clock
) -> None:
    def down_for_30_seconds(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        return (503, {}) if clock.now < T0 + timedelta(seconds=30) else (200, {})

    with receiving(Receiver(answer=down_for_30_seconds)) as receiver:
        subscription_id, secret = subscribe(
            engine, receiver.url, ["leadflow.handoff.accepted.v1", "leadflow.nurture.exited.v1"]
        )
        events = [(accepted if n % 3 else exited)(KEYS[n % len(KEYS)]) for n in range(40)]
        publish(engine, events[:20])
        publish(engine, events[20:])
        fan_out(engine, expected=len(events))
        loop = dispatcher(engine, clock, jitter=0.7)

        try:
            run_until(loop, clock, lambda: len(receiver.accepted()) >= len(events))
        finally:
            loop.close()

        got = receiver.accepted()
        assert sorted(Counter(r.webhook_id for r in got).values()) == [1] * len(events)  # each once
        assert {r.webhook_id for r in got} == {str(event.id) for event in events}
        arrived: dict[str, list[str]] = defaultdict(list)
        for r in got:
            arrived[r.event()["partitionkey"]].append(r.webhook_id)
        for key in KEYS:
            assert arrived[key] == [str(event.id) for event in events if event.key == key], key
        every = receiver.all()
        assert all(verify_by_hand(secret, r) for r in every)
        assert all(r.headers["content-type"] == "application/cloudevents+json" for r in every)
        assert all(r.event()["id"] == r.webhook_id and r.event()["specversion"] == "1.0" for r in got)
        assert any(r.status == 503 for r in every)  # the outage was real
        assert not verify_by_hand("whsec_" + "A" * 43 + "=", got[0])  # and the check by hand can fail
    rows = deliveries(engine)
    assert {row.status for row in rows} == {"delivered"}
    assert {row.subscription_id for row in rows} == {subscription_id}
    assert max(row.attempts for row in rows) > 1


def test_two_dispatchers_share_the_work_without_sending_twice_or_out_of_order(engine: Engine, clock: Clock) -> None:
    flaky = iter([503, 200, 500] * 40)

    with receiving(Receiver(answer=lambda headers, body: (next(flaky, 200), {}))) as receiver:
        subscribe(engine, receiver.url)
        events = [accepted(KEYS[n % 2]) for n in range(30)]
        publish(engine, events)
        fan_out(engine, expected=len(events))
        senders = [CountingSender(), CountingSender()]
        # One send at a time per subscription each, so the second dispatcher finds work the first left.
        first, second = (dispatcher(engine, clock, jitter=0.5, per_subscription=1, sender=s) for s in senders)

        try:
            for _ in range(600):
                for loop in (first, second):
                    loop.step()
                for loop in (first, second):
                    loop.settle()
                if len(receiver.accepted()) >= len(events):
                    break
                clock.advance(seconds=1)
        finally:
            first.close()
            second.close()

        got = receiver.accepted()
    assert all(sender.sent > 0 for sender in senders)
    assert sorted(Counter(r.webhook_id for r in got).values()) == [1] * len(events)
    for key in KEYS[:2]:
        assert [r.webhook_id for r in got if r.event()["partitionkey"] == key] == [
            str(event.id) for event in events if event.key == key
        ]
