"""The outbox relay: publishes committed outbox rows to Kafka in order, then marks them sent.

A row the broker can never take (too large, an invalid topic) is set aside as failed, with the reason, and the
relay goes on: one bad event never holds up the others. Only faults of the broker itself are retried.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from kafka import errors as kafka_errors
from kafka.producer import KafkaProducer
from prometheus_client import Counter
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from eventlog.dead_letters import printable
from eventlog.health import Heartbeat
from eventlog.log import TransientError
from eventlog.loop import run_loop
from eventlog.models import OutboxRecord
from events.envelope import utc_now

log = logging.getLogger(__name__)

RELAYED = Counter("leadflow_relay_published_total", "Outbox rows published to Kafka", ["topic"])
FAILED = Counter("leadflow_outbox_failed_total", "Outbox rows the broker refused for good, set aside", ["topic"])

CONTENT_TYPE = ("content-type", b"application/cloudevents+json")

# Errors that are about one record, never about the broker: retrying the same bytes can never succeed.
PERMANENT_FOR_RECORD = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidRecordError,
    kafka_errors.CorruptRecordError,
    kafka_errors.InvalidTopicError,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.UnsupportedForMessageFormatError,
)


@dataclass(frozen=True)
class Pending:
    """An outbox row waiting to be published."""

    position: int
    topic: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, str] | None


@dataclass(frozen=True)
class Outcome:
    """What became of a batch: rows the broker acknowledged, rows it refused for good, a transient fault."""

    sent: list[Pending]
    refused: list[tuple[Pending, str]]
    fault: BaseException | None


class Relay:
    """Ships the outbox to Kafka. A crash between publish and mark publishes again: consumers dedupe by inbox."""

    def __init__(self, session_factory: sessionmaker[Session], producer: KafkaProducer, topic_prefix: str = "") -> None:
        self._session_factory = session_factory
        self._producer = producer
        self._prefix = topic_prefix
        self.heartbeat = Heartbeat("relay")

    def pending(self, limit: int = 1000) -> list[Pending]:
        """The oldest unsent rows that have not been set aside, in position order."""
        with self._session_factory() as session:
            rows = session.execute(
                select(
                    OutboxRecord.position,
                    OutboxRecord.topic,
                    OutboxRecord.key,
                    OutboxRecord.value,
                    OutboxRecord.headers,
                )
                .where(OutboxRecord.sent_at.is_(None), OutboxRecord.failed_at.is_(None))
                .order_by(OutboxRecord.position)
                .limit(limit)
            ).all()
        return [Pending(*row) for row in rows]

    def publish(self, rows: Sequence[Pending]) -> Outcome:
        """Send `rows` and wait for the broker's answer on each."""
        refused: list[tuple[Pending, str]] = []
        futures = []
        fault: BaseException | None = None
        for row in rows:
            try:
                topic = self._prefix + row.topic
                futures.append((row, self._producer.send(topic, key=row.key, value=row.value, headers=_headers(row))))
            except PERMANENT_FOR_RECORD as error:  # kafka-python refuses an oversized record in send() itself
                refused.append((row, f"{type(error).__name__}: {error}"))
            except Exception as error:  # the rows after it wait for the next round, so that order holds
                fault = error
                break
        try:
            self._producer.flush()
        except Exception as error:  # the answers below say which rows it concerned
            log.warning("relay: flush failed: %s", error)
        sent = []
        for row, future in futures:
            try:
                future.get(timeout=30)
            except PERMANENT_FOR_RECORD as error:
                refused.append((row, f"{type(error).__name__}: {error}"))
                continue
            except Exception as error:
                fault = fault or error
                continue
            sent.append(row)
            RELAYED.labels(row.topic).inc()
        return Outcome(sent, refused, fault)

    def mark(self, outcome: Outcome) -> None:
        """Mark sent rows sent and refused rows failed, with the reason."""
        now = utc_now()
        with self._session_factory() as session, session.begin():
            if outcome.sent:
                session.execute(
                    update(OutboxRecord)
                    .where(OutboxRecord.position.in_([row.position for row in outcome.sent]))
                    .values(sent_at=now)
                )
            for row, reason in outcome.refused:
                FAILED.labels(row.topic).inc()
                log.error("relay: outbox row %s for %s set aside: %s", row.position, row.topic, reason)
                session.execute(
                    update(OutboxRecord)
                    .where(OutboxRecord.position == row.position)
                    .values(failed_at=now, failure=printable(reason))
                )

    def run_once(self, limit: int = 1000) -> int:
        """Publish one batch of pending rows; the number that left the queue (sent or set aside)."""
        rows = self.pending(limit)
        if not rows:
            self.heartbeat.progressed()
            return 0
        outcome = self.publish(rows)
        self.mark(outcome)
        done = len(outcome.sent) + len(outcome.refused)
        if outcome.fault is not None or done < len(rows):
            self.heartbeat.waiting(f"{len(rows) - done} outbox rows pending")
            raise TransientError(f"{len(rows) - done} of {len(rows)} rows not acknowledged: {outcome.fault}")
        self.heartbeat.progressed()
        return done

    def run(self, stop: threading.Event, idle_s: float = 0.05) -> None:
        """Relay until `stop` is set, retrying transient faults with backoff."""
        run_loop("relay", lambda: 0.0 if self.run_once() else idle_s, stop, heartbeat=self.heartbeat)
        self._producer.flush()


def failed_rows(session: Session, limit: int = 100) -> list[OutboxRecord]:
    """Outbox rows the broker refused for good, newest first."""
    return list(
        session.scalars(
            select(OutboxRecord)
            .where(OutboxRecord.failed_at.is_not(None))
            .order_by(OutboxRecord.position.desc())
            .limit(limit)
        )
    )


def count_failed(session: Session) -> int:
    """How many outbox rows are set aside as failed."""
    return int(session.scalar(select(func.count()).where(OutboxRecord.failed_at.is_not(None))) or 0)


def _headers(row: Pending) -> list[tuple[str, bytes]]:
    extra = [(name, value.encode()) for name, value in (row.headers or {}).items()]
    return extra or [CONTENT_TYPE]


__all__ = ["Outcome", "Pending", "Relay", "TransientError", "count_failed", "failed_rows"]
