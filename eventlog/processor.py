"""The consumer loop: a poll's batch handled in one transaction, with inbox dedupe and dead letters."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prometheus_client import Counter
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from eventlog.log import LogConsumer, Record, TransientError
from eventlog.models import DeadLetter, InboxRecord
from eventlog.retry import Backoff, is_transient
from eventlog.unit_of_work import UnitOfWork
from events.envelope import utc_now
from events.registry import HANDLER_ERROR, Event, EventRejected, decode
from events.topics import dead_letter_topic

log = logging.getLogger(__name__)

Handler = Callable[[Event[Any], UnitOfWork], None]

HANDLED = Counter("leadflow_events_handled_total", "Events handled", ["group", "type"])
SKIPPED = Counter("leadflow_events_duplicate_total", "Duplicate deliveries dropped by the inbox", ["group"])
DEAD_LETTERED = Counter("leadflow_dead_letters_total", "Messages sent to the dead-letter queue", ["group", "reason"])
RETRIED = Counter("leadflow_transient_faults_total", "Batches retried after a transient fault", ["group"])


class _HandlerFailedError(Exception):
    """A handler raised on the fast path: the batch is redone one event at a time."""


class Processor:
    """Runs `handlers` (by event type) for a consumer group; events of other types are passed over."""

    def __init__(
        self,
        *,
        group: str,
        consumer: LogConsumer,
        uow: UnitOfWork,
        handlers: Mapping[str, Handler],
        batch_size: int = 500,
    ) -> None:
        self.group = group
        self._consumer = consumer
        self._uow = uow
        self._handlers = dict(handlers)
        self._batch_size = batch_size

    def run(self, stop: threading.Event, poll_timeout_s: float = 0.2) -> None:
        """Consume until `stop` is set; the batch in hand is finished first. Transient faults back off."""
        backoff = Backoff()
        try:
            while not stop.is_set():
                records: list[Record] = []
                try:
                    records = self._consumer.poll(self._batch_size, poll_timeout_s)
                    if records:
                        self.process(records)
                    backoff.reset()
                except Exception as error:
                    if not is_transient(error):
                        raise
                    RETRIED.labels(self.group).inc()
                    delay = backoff.next()
                    log.warning("%s: transient fault, retrying in %.1fs: %s", self.group, delay, error)
                    if records:
                        self._consumer.rewind(records)
                    stop.wait(delay)
        finally:
            self._consumer.close()

    def process(self, records: Sequence[Record]) -> None:
        """Handle one batch: all in one transaction, or event by event when a handler fails."""
        try:
            self._attempt(records, isolate=False)
        except _HandlerFailedError:
            self._attempt(records, isolate=True)
        self._consumer.commit(records)

    def _attempt(self, records: Sequence[Record], *, isolate: bool) -> None:
        with self._uow as uow:
            events = self._decode_or_dead_letter(uow, records)
            for record, event in self._claim(uow, events):
                handler = self._handlers[event.type]
                if not isolate:
                    self._run_fast(handler, event, uow)
                    continue
                try:
                    with uow.session.begin_nested():
                        handler(event, uow)
                except Exception as error:
                    if is_transient(error):
                        raise
                    log.exception("%s: handler failed on %s %s", self.group, event.type, event.id)
                    self._dead_letter(uow, record, HANDLER_ERROR, f"{type(error).__name__}: {error}", event)
            self._consumer.stage_offsets(uow.session, records)
            uow.commit()
        for _, event in events:
            if event.type in self._handlers:
                HANDLED.labels(self.group, event.type).inc()

    def _run_fast(self, handler: Handler, event: Event[Any], uow: UnitOfWork) -> None:
        try:
            handler(event, uow)
        except Exception as error:
            if is_transient(error):
                raise
            raise _HandlerFailedError from error

    def _decode_or_dead_letter(self, uow: UnitOfWork, records: Sequence[Record]) -> list[tuple[Record, Event[Any]]]:
        events = []
        for record in records:
            try:
                events.append((record, decode(record.value)))
            except EventRejected as rejected:
                self._dead_letter(uow, record, rejected.reason, rejected.detail)
        return events

    def _claim(self, uow: UnitOfWork, events: list[tuple[Record, Event[Any]]]) -> list[tuple[Record, Event[Any]]]:
        """Write the inbox rows of the events this group has not handled yet; those are the ones to handle."""
        wanted = [(record, event) for record, event in events if event.type in self._handlers]
        if not wanted:
            return []
        ids = {event.id for _, event in wanted}
        seen: set[uuid.UUID] = set(
            uow.session.scalars(
                select(InboxRecord.event_id).where(
                    InboxRecord.consumer_group == self.group, InboxRecord.event_id.in_(ids)
                )
            )
        )
        fresh = []
        for record, event in wanted:
            if event.id in seen:
                SKIPPED.labels(self.group).inc()
                continue
            seen.add(event.id)
            fresh.append((record, event))
        if fresh:
            now = utc_now()
            try:
                uow.session.execute(
                    insert(InboxRecord),
                    [{"consumer_group": self.group, "event_id": e.id, "handled_at": now} for _, e in fresh],
                )
            except IntegrityError as error:
                raise TransientError(f"{self.group}: an event was claimed concurrently; retrying") from error
        return fresh

    def _dead_letter(
        self, uow: UnitOfWork, record: Record, reason: str, error: str, event: Event[Any] | None = None
    ) -> None:
        DEAD_LETTERED.labels(self.group, reason).inc()
        log.warning("%s: dead-lettered %s@%s: %s: %s", self.group, record.topic, record.offset, reason, error)
        uow.session.add(
            DeadLetter(
                consumer_group=self.group,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                reason=reason,
                error=error,
                event_id=event.id if event else None,
                event_type=event.type if event else None,
                created_at=utc_now(),
            )
        )
        uow.append(
            topic=dead_letter_topic(record.topic),
            key=record.key or "",
            value=record.value,
            headers={
                "leadflow.dlq.reason": reason,
                "leadflow.dlq.error": error[:1000],
                "leadflow.dlq.group": self.group,
                "leadflow.dlq.topic": record.topic,
                "leadflow.dlq.partition": str(record.partition),
                "leadflow.dlq.offset": str(record.offset),
            },
        )
