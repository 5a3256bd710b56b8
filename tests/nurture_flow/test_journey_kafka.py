"""The raw lead's nurture journey end to end on real Kafka and PostgreSQL, with the scheduler's clock moved:
events in through the broker, actions and the exit out on leadflow.nurture.actions."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from kafka.consumer import KafkaConsumer
from sqlalchemy import Engine

from eventlog.backends import KafkaEventLog
from eventlog.kafka import ensure_topics
from events.registry import decode
from events.topics import ALL, NURTURE_ACTIONS
from tests.clock import T0, Clock
from tests.nurture_flow.support import AWARENESS, Nurture, qualified, scored, store_tracks, touch

EMAIL = "dana@acme-robotics.com"
DANA = uuid.UUID("00000000-0000-4000-8000-00000000da0b")


def _until(nurture: Nurture, done: Callable[[], bool], timeout_s: float = 60) -> None:
    """Relay the outbox to Kafka and consume until `done`."""
    relay = nurture.log.relay()
    assert relay is not None
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "nurture did not get there within the time"
        relay.run_once()
        nurture.processor.step(0.2)


def test_a_raw_lead_is_nurtured_engages_and_exits_qualified_on_kafka(
    postgres_engine: Engine, kafka_bootstrap: str
) -> None:
    prefix = f"test{uuid.uuid4().hex[:8]}."
    ensure_topics(kafka_bootstrap, [prefix + topic for topic in ALL], 3)
    store_tracks(postgres_engine, AWARENESS)
    log = KafkaEventLog(postgres_engine, kafka_bootstrap, topic_prefix=prefix)
    nurture = Nurture(postgres_engine, Clock(T0), log)

    nurture.publish(scored(DANA, EMAIL, "raw", at=T0))
    _until(nurture, lambda: len(nurture.enrollments(DANA)) == 1)
    assert nurture.at(T0 + timedelta(hours=1)) == 1
    assert nurture.at(T0 + timedelta(days=2, hours=1)) == 1
    nurture.publish(touch(EMAIL, "email_click", at=T0 + timedelta(days=2, hours=2), content_id="buyers-guide"))
    _until(nurture, lambda: nurture.enrollments(DANA)[0].step == 3)
    nurture.publish(qualified(DANA, EMAIL, at=T0 + timedelta(days=2, hours=3)))
    _until(nurture, lambda: nurture.enrollments(DANA)[0].status == "exited")
    nurture.at(T0 + timedelta(days=30))
    relay = nurture.log.relay()
    assert relay is not None
    relay.run_once()

    marketing = KafkaConsumer(
        prefix + NURTURE_ACTIONS,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"marketing-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    received: list[tuple[bytes, Any]] = [(record.key, decode(record.value)) for record in marketing]
    marketing.close()
    [enrollment] = nurture.enrollments(DANA)
    assert (enrollment.exit_reason, enrollment.last_step) == ("qualified", 2)
    assert {key for key, _ in received} == {b"acme-robotics.com"}
    assert [event.type.split(".")[2:4] for _, event in received] == [
        ["enrolled", "v1"],
        ["action", "requested"],
        ["action", "requested"],
        ["exited", "v1"],
    ]
    steps = [event.data.step_id for _, event in received if event.type.endswith("action.requested.v1")]
    assert steps == ["welcome", "guide"]
    assert received[-1][1].data.reason == "qualified"
