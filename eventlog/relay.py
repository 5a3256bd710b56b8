"""The outbox relay: publishes committed outbox rows to Kafka in order, then marks them sent."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from kafka.producer import KafkaProducer
from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from eventlog.log import TransientError
from eventlog.models import OutboxRecord
from eventlog.retry import Backoff, is_transient
from events.envelope import utc_now

log = logging.getLogger(__name__)

RELAYED = Counter("leadflow_relay_published_total", "Outbox rows published to Kafka", ["topic"])

CONTENT_TYPE = ("content-type", b"application/cloudevents+json")


@dataclass(frozen=True)
class Pending:
    """An outbox row waiting to be published."""

    position: int
    topic: str
    key: str
    value: bytes
    headers: dict[str, str] | None


class Relay:
    """Ships the outbox to Kafka. A crash between publish and mark publishes again: consumers dedupe by inbox."""

    def __init__(self, session_factory: sessionmaker[Session], producer: KafkaProducer, topic_prefix: str = "") -> None:
        self._session_factory = session_factory
        self._producer = producer
        self._prefix = topic_prefix

    def pending(self, limit: int = 1000) -> list[Pending]:
        """The oldest unsent rows, in position order."""
        with self._session_factory() as session:
            rows = session.execute(
                select(
                    OutboxRecord.position,
                    OutboxRecord.topic,
                    OutboxRecord.key,
                    OutboxRecord.value,
                    OutboxRecord.headers,
                )
                .where(OutboxRecord.sent_at.is_(None))
                .order_by(OutboxRecord.position)
                .limit(limit)
            ).all()
        return [Pending(*row) for row in rows]

    def publish(self, rows: Sequence[Pending]) -> None:
        """Send `rows` and wait until the broker acknowledged every one."""
        futures = [
            self._producer.send(
                self._prefix + row.topic,
                key=row.key.encode(),
                value=row.value,
                headers=_headers(row),
            )
            for row in rows
        ]
        self._producer.flush()
        for future in futures:
            future.get(timeout=30)
        for row in rows:
            RELAYED.labels(row.topic).inc()

    def mark_sent(self, rows: Sequence[Pending]) -> None:
        """Mark `rows` as published."""
        with self._session_factory() as session, session.begin():
            session.execute(
                update(OutboxRecord)
                .where(OutboxRecord.position.in_([row.position for row in rows]))
                .values(sent_at=utc_now())
            )

    def run_once(self, limit: int = 1000) -> int:
        """Publish one batch of pending rows; the number published."""
        rows = self.pending(limit)
        if rows:
            self.publish(rows)
            self.mark_sent(rows)
        return len(rows)

    def run(self, stop: threading.Event, idle_s: float = 0.05) -> None:
        """Relay until `stop` is set, retrying transient faults with backoff."""
        backoff = Backoff()
        while not stop.is_set():
            try:
                published = self.run_once()
            except Exception as error:
                if not is_transient(error):
                    raise
                delay = backoff.next()
                log.warning("relay: transient fault, retrying in %.1fs: %s", delay, error)
                stop.wait(delay)
                continue
            backoff.reset()
            if not published:
                stop.wait(idle_s)
        self._producer.flush()


def _headers(row: Pending) -> list[tuple[str, bytes]]:
    extra = [(name, value.encode()) for name, value in (row.headers or {}).items()]
    return extra or [CONTENT_TYPE]


__all__ = ["Pending", "Relay", "TransientError"]
