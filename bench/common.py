"""What the benchmarks share: the servers from the environment, a fresh database, a populated topic."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from kafka.consumer import KafkaConsumer
from kafka.producer import KafkaProducer
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from database import migrate
from database.engine import make_engine
from eventlog.kafka import ensure_topics
from eventlog.loop import settle_heap
from events.catalog import TouchRecorded
from events.catalog.common import ContactIdentity
from events.registry import encode, new_event

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def servers() -> tuple[str, str]:
    """The PostgreSQL URL and Kafka bootstrap the benchmark runs on (scripts/with-services provides them)."""
    url = os.environ.get("LEADFLOW_TEST_DATABASE_URL")
    bootstrap = os.environ.get("LEADFLOW_TEST_KAFKA_BOOTSTRAP")
    if not url or not bootstrap:
        sys.exit("run benchmarks through `make bench` or scripts/with-services, which provide PostgreSQL and Kafka")
    return url, bootstrap


@contextmanager
def fresh_database(server_url: str, template: str | None = None) -> Iterator[Engine]:
    """A new, migrated database (a copy of `template`, if given), dropped afterwards."""
    name = f"leadflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    engine = make_engine(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def small_touch(n: int, accounts: int = 10_000) -> bytes:
    """The bytes of a small touch.recorded event at one of `accounts` accounts."""
    domain = f"account{n % accounts}.example"
    data = TouchRecorded(
        touch_id=uuid.uuid4(),
        contact=ContactIdentity(email=f"person{n % 7}@{domain}"),
        touch_type="page_view",
        channel="web",
        source_system="bench",
    )
    return encode(new_event(data, key=domain, time=T0 + timedelta(seconds=n), source="bench"))


def populate(bootstrap: str, topic: str, count: int, partitions: int, make=small_touch) -> float:
    """Produce `count` events to a new topic; the producer's rate in events/s."""
    ensure_topics(bootstrap, [topic], partitions)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=256 * 1024)
    payloads = [make(n) for n in range(count)]
    started = time.perf_counter()
    for value in payloads:
        key = value[value.index(b'"partitionkey":"') + 16 :].split(b'"', 1)[0]
        producer.send(topic, key=key, value=value)
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return count / elapsed


def raw_consume_rate(bootstrap: str, topic: str, count: int, passes: int = 3) -> float:
    """kafka-python reading `count` records of `topic` and doing nothing: the ceiling, in records/s.

    The median of `passes` reads, each in a group of its own: on a short topic one fetch that waits out
    `fetch_max_wait_ms` halves a single pass's rate, and the ratios are only as steady as this baseline.
    """
    # As in every leadflow loop (eventlog.loop.settle_heap): the set-up heap is no work for the garbage collector.
    settle_heap()
    runs = sorted(_raw_pass(bootstrap, topic, count) for _ in range(passes))
    print(f"  raw kafka-python passes: {', '.join(f'{rate:,.0f}' for rate, _ in runs)} records/s")
    print(f"  raw kafka-python CPU per record (this process): {', '.join(f'{cpu:.1f}' for _, cpu in runs)} us")
    return runs[len(runs) // 2][0]


def _raw_pass(bootstrap: str, topic: str, count: int) -> tuple[float, float]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    seen, started, cpu_started = 0, None, 0.0
    while seen < count:
        polled = consumer.poll(timeout_ms=1000, max_records=500)
        if polled and started is None:
            started, cpu_started = time.perf_counter(), time.process_time()
        seen += sum(len(records) for records in polled.values())
    assert started is not None
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    consumer.close()
    return count / elapsed, cpu / count * 1e6


def report(rows: list[tuple[str, str]]) -> None:
    """Print a two-column table of figures."""
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
