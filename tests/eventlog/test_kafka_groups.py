"""Kafka only: several consumers of one group share the partitions and keep each account's order."""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from sqlalchemy import Engine, select

from eventlog.processor import Processor
from tests.eventlog.harness import TOUCH_RECORDED, effect, make_harness, record_effect, touch


def test_two_consumers_in_one_group_keep_per_key_order(postgres_engine: Engine, kafka_bootstrap: str) -> None:
    harness = make_harness("kafka", postgres_engine, "", kafka_bootstrap, partitions=4)
    keys = [f"account{n}.com" for n in range(20)]

    stop = threading.Event()
    threads, consumers = [], []
    for member in ("A", "B"):
        consumer = harness.log.consumer(harness.group_id("g"), [harness.topic])
        proc = Processor(
            group=harness.group_id("g"),
            consumer=consumer,
            uow=harness.log.unit_of_work(),
            handlers={TOUCH_RECORDED: functools.partial(_record_as, member)},
            batch_size=25,
        )
        consumers.append(consumer)
        threads.append(threading.Thread(target=proc.run, args=(stop,), daemon=True))
    for thread in threads:
        thread.start()
    # Both members must own partitions before anything is published, or one could do all the work alone.
    deadline = time.monotonic() + 90
    while not all(consumer.assignment() for consumer in consumers):  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the group never gave both members partitions"
        time.sleep(0.1)
    harness.emit(*[touch(keys[seq % 20], seq) for seq in range(400)])
    harness.deliver()
    deadline = time.monotonic() + 90
    try:
        while _count(postgres_engine) < 400:
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)
        time.sleep(1)  # a late duplicate would show up now
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    with postgres_engine.connect() as connection:
        rows = connection.execute(
            select(effect.c.consumer_group, effect.c.account_key, effect.c.seq).order_by(effect.c.id)
        ).all()
    assert sorted(seq for _, _, seq in rows) == list(range(400)), "every event exactly once"
    assert {member for member, _, _ in rows} == {"A", "B"}, "both members of the group did work"
    for key in keys:
        seqs = [seq for _, effect_key, seq in rows if effect_key == key]
        assert seqs == sorted(seqs), f"{key} out of order: {seqs}"
    harness.close()


def _record_as(member: str, event: Any, uow: Any) -> None:
    record_effect(event, uow, member)


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return len(connection.execute(select(effect.c.id)).all())
