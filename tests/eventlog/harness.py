"""One harness per event-log backend, so that the same contract tests run against each."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka.producer import KafkaProducer
from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, String, Table, Uuid, insert, select

from eventlog.backends import EventLog, KafkaEventLog, SqlEventLog, processor
from eventlog.kafka import ensure_topics
from eventlog.processor import Processor
from eventlog.unit_of_work import UnitOfWork
from events.catalog import TouchRecorded
from events.catalog.common import ContactIdentity
from events.registry import Event, encode, new_event

# The tests' handler writes here: one row per effect, in the order the effects happened.
effects_metadata = MetaData(schema="eventlog")
effect = Table(
    "test_effect",
    effects_metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("consumer_group", String(200)),
    Column("event_id", Uuid),
    Column("account_key", String(320)),
    Column("seq", Integer),
)

TOUCH_RECORDED = "leadflow.touch.recorded.v1"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def touch(key: str, seq: int, *, event_id: uuid.UUID | None = None) -> Event[TouchRecorded]:
    """A touch at account `key`, numbered `seq` (so order can be checked)."""
    data = TouchRecorded(
        touch_id=uuid.uuid4(),
        contact=ContactIdentity(email=f"buyer{seq % 3}@{key}"),
        touch_type="page_view",
        source_system="test",
        properties={"seq": seq},
    )
    return new_event(data, key=key, time=T0 + timedelta(seconds=seq), source="test", event_id=event_id)


def record_effect(event: Event[Any], uow: UnitOfWork, group: str = "g") -> None:
    """The tests' handler: one row per handled event."""
    uow.session.execute(
        insert(effect).values(
            consumer_group=group, event_id=event.id, account_key=event.key, seq=event.data.properties["seq"]
        )
    )


@dataclass
class Harness:
    """A backend with a private topic and a fresh database."""

    name: str
    engine: Engine
    log: EventLog
    topic: str
    database_url: str
    bootstrap: str | None = None
    _producer: KafkaProducer | None = field(default=None, repr=False)

    def emit(self, *events: Event[Any]) -> None:
        """Commit `events` to the outbox, each on this harness's topic."""
        with self.log.unit_of_work() as uow:
            for event in events:
                uow.append(topic=self.topic, key=event.key, value=encode(event), event=event)
            uow.commit()

    def produce_raw(self, key: str, value: bytes) -> None:
        """Put bytes on the topic the way an outside producer would."""
        if self.bootstrap is None:
            with self.log.unit_of_work() as uow:
                uow.append(topic=self.topic, key=key, value=value)
                uow.commit()
            return
        if self._producer is None:
            self._producer = KafkaProducer(bootstrap_servers=self.bootstrap)
        self._producer.send(self.topic, key=key.encode(), value=value).get(timeout=30)

    def deliver(self) -> int:
        """Relay the outbox until it is empty (Kafka); the SQL log needs no relay."""
        relay = self.log.relay()
        if relay is None:
            return 0
        total = 0
        while sent := relay.run_once():
            total += sent
        return total

    def processor(self, group: str, handler: Callable[..., None] | None = None, batch_size: int = 100) -> Processor:
        """A consumer loop of `group` over this harness's topic, with the effect-recording handler."""
        chosen = handler or (lambda event, uow: record_effect(event, uow, group))
        return processor(
            self.log,
            group=self.group_id(group),
            topics=[self.topic],
            handlers={TOUCH_RECORDED: chosen},
            batch_size=batch_size,
        )

    def group_id(self, group: str) -> str:
        """The consumer group's id on the shared test broker: private to this harness's topic."""
        # A group id shared by tests would make each test's group wait for the last one's members to leave.
        return f"{group}.{self.topic}"

    def effects(self, group: str) -> list[tuple[str, int]]:
        """(account key, seq) of every effect of `group`, in the order they happened."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(effect.c.account_key, effect.c.seq).where(effect.c.consumer_group == group).order_by(effect.c.id)
            ).all()
        return [(key, seq) for key, seq in rows]

    def consume_until(self, proc: Processor, done: Callable[[], bool], timeout_s: float = 60) -> None:
        """Run `proc` in a thread until `done()` holds; fail after `timeout_s`."""
        stop = threading.Event()
        thread = threading.Thread(target=proc.run, args=(stop,), daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout_s
        try:
            while not done():
                assert thread.is_alive(), "the consumer loop died"
                assert time.monotonic() < deadline, f"timed out after {timeout_s}s"
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join(timeout=30)

    def close(self) -> None:
        """Release clients."""
        if self._producer is not None:
            self._producer.close()


def make_harness(name: str, engine: Engine, database_url: str, bootstrap: str | None, partitions: int = 1) -> Harness:
    """A harness for backend `name` over `engine`."""
    effects_metadata.create_all(engine)
    topic = f"test.{uuid.uuid4().hex[:10]}"
    if bootstrap is None:
        return Harness(name, engine, SqlEventLog(engine), topic, database_url)
    ensure_topics(bootstrap, [topic], partitions=partitions)
    log = KafkaEventLog(engine, bootstrap, consumer_config={"session_timeout_ms": 10000, "heartbeat_interval_ms": 1000})
    return Harness(name, engine, log, topic, database_url, bootstrap)
