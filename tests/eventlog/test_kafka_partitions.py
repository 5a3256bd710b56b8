"""Kafka only: a running consumer takes on partitions added to its topic."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.producer import KafkaProducer
from kafka.structs import TopicPartition

from eventlog.kafka import KafkaLogConsumer, ensure_topics
from eventlog.log import Record


def test_a_consumer_picks_up_partitions_added_to_its_topic_while_it_runs(kafka_bootstrap: str) -> None:
    topic = f"test.{uuid.uuid4().hex[:10]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=1)
    consumer = KafkaLogConsumer(
        kafka_bootstrap,
        f"g.{topic}",
        [topic],
        metadata_max_age_ms=500,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
    )
    try:
        _poll_until(
            consumer, lambda _: consumer.assignment() == {TopicPartition(topic, 0)}, "never owned partition 0", 0.2
        )

        _add_partitions(kafka_bootstrap, topic, total=3)
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
        try:
            for partition in (1, 2):
                producer.send(topic, key=b"acme.com", value=f"p{partition}".encode(), partition=partition).get(30)
        finally:
            producer.close()

        received = _poll_until(
            consumer,
            lambda records: {r.partition for r in records} >= {1, 2},
            "the records on the added partitions never arrived",
            # As short as a busy loop's polls: kafka-python 3.0.12 left the member without partitions when a
            # poll timed out in the middle of the rebalance that adding partitions starts.
            0.001,
        )
        assert sorted((r.partition, r.value) for r in received) == [(1, b"p1"), (2, b"p2")]
        assert consumer.assignment() == {TopicPartition(topic, p) for p in range(3)}
    finally:
        consumer.close()


def test_a_member_that_loses_partitions_to_a_new_member_goes_on_and_tells_the_lag_of_those_it_keeps(
    kafka_bootstrap: str,
) -> None:
    topic = f"test.{uuid.uuid4().hex[:10]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=2)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        for partition in (0, 1):
            for n in range(3):
                producer.send(topic, key=b"k", value=f"p{partition}-{n}".encode(), partition=partition).get(30)
    finally:
        producer.close()
    config: dict[str, Any] = {"metadata_max_age_ms": 500, "session_timeout_ms": 10_000, "heartbeat_interval_ms": 500}
    first = KafkaLogConsumer(kafka_bootstrap, f"g.{topic}", [topic], max_poll_records=1, **config)
    second: KafkaLogConsumer | None = None
    try:
        _poll_until(first, lambda records: {r.partition for r in records} == {0, 1}, "never read both", 0.2)
        assert set(first.lag()) == {(topic, 0), (topic, 1)}
        second = KafkaLogConsumer(kafka_bootstrap, f"g.{topic}", [topic], **config)
        joined = second

        def split(_: list[Record]) -> bool:
            joined.poll(10, 0.05)
            return len(first.assignment()) == 1 and len(joined.assignment()) == 1

        _poll_until(first, split, "the group never split the partitions", 0.05)
        [kept] = first.assignment()
        assert set(first.lag()) == {(topic, kept.partition)}  # before the fix: IllegalStateError, at every step
    finally:
        first.close()
        if second is not None:
            second.close()


def _poll_until(
    consumer: KafkaLogConsumer, done: Callable[[list[Record]], bool], failure: str, poll_timeout_s: float
) -> list[Record]:
    """Poll back to back, as Processor.run does, until `done(received)` holds; fail after 30 s."""
    received: list[Record] = []
    deadline = time.monotonic() + 30
    while not done(received):
        assert time.monotonic() < deadline, f"{failure}; assignment {sorted(consumer.assignment())}"
        received.extend(consumer.poll(100, poll_timeout_s))
    return received


def _add_partitions(bootstrap: str, topic: str, total: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_partitions({topic: total})
    finally:
        admin.close()
    ensure_topics(bootstrap, [topic], partitions=total)  # returns once every partition has a leader
