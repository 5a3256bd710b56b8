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
from eventlog.models import OutboxRecord
from eventlog.processor import Processor
from eventlog.unit_of_work import UnitOfWork
from events.catalog import TouchRecorded
from events.catalog.common import ContactIdentity
from events.registry import Event, encode, new_event
from events.topics import TOUCHES, dead_letter_topic

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
    """A backend with the touches topic and a fresh database (on Kafka, the topic behind a private prefix)."""

    name: str
    engine: Engine
    log: EventLog
    topic: str
    database_url: str
    bootstrap: str | None = None
    prefix: str = ""
    _producer: KafkaProducer | None = field(default=None, repr=False)

    def emit(self, *events: Event[Any]) -> None:
        """Commit `events` to the outbox, each on this harness's topic."""
        with self.log.unit_of_work() as uow:
            for event in events:
                uow.append(topic=self.topic, key=event.key.encode(), value=encode(event), event=event)
            uow.commit()

    def produce_raw(
        self, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]] | None = None
    ) -> tuple[int, int]:
        """Put bytes on the topic the way an outside producer would; the (partition, offset) they got."""
        if self.bootstrap is None:
            with self.log.unit_of_work() as uow:
                position = uow.session.scalar(
                    insert(OutboxRecord)
                    .values(topic=self.topic, key=key, value=value, headers=None, created_at=datetime.now(UTC))
                    .returning(OutboxRecord.position)
                )
                uow.commit()
            return 0, int(position or 0)
        if self._producer is None:
            self._producer = KafkaProducer(bootstrap_servers=self.bootstrap, max_request_size=4 * 1024 * 1024)
        sent = self._producer.send(self.prefix + self.topic, key=key, value=value, headers=headers).get(timeout=30)
        return sent.partition, sent.offset

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
        """The consumer group's id (on Kafka the log puts the harness's private prefix before it)."""
        # A group id shared by tests would make each test's group wait for the last one's members to leave.
        return group

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


def make_harness(
    name: str,
    engine: Engine,
    database_url: str,
    bootstrap: str | None,
    partitions: int = 1,
    prefix: str | None = None,
) -> Harness:
    """A harness for backend `name` over `engine`; on Kafka its topics have a private prefix."""
    effects_metadata.create_all(engine)
    if bootstrap is None:
        return Harness(name, engine, SqlEventLog(engine), TOUCHES, database_url)
    prefix = prefix or f"test.{uuid.uuid4().hex[:10]}."
    ensure_topics(bootstrap, [prefix + TOUCHES, prefix + dead_letter_topic(TOUCHES)], partitions=partitions)
    log = KafkaEventLog(
        engine,
        bootstrap,
        consumer_config={"session_timeout_ms": 10000, "heartbeat_interval_ms": 1000},
        topic_prefix=prefix,
    )
    return Harness(name, engine, log, TOUCHES, database_url, bootstrap, prefix)
