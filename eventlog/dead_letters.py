"""Dead letters: a record a consumer cannot handle is kept with its original bytes and the reason, and the
consumer goes on. Writing the dead letter must not be able to stop the consumer either."""

from __future__ import annotations

import base64
import logging
from typing import Any

from prometheus_client import Counter

from eventlog.limits import fit
from eventlog.log import Record
from eventlog.models import DeadLetter
from eventlog.retry import is_transient
from eventlog.unit_of_work import UnitOfWork
from events.envelope import utc_now
from events.registry import Event
from events.topics import dead_letter_topic

log = logging.getLogger(__name__)

WRONG_TOPIC = "wrong_topic"
DEAD_LETTER_FAILED = "dead_letter_failed"
"""The last resort: the dead-letter write itself failed; the row keeps the bytes and both errors."""

_MAX_ERROR_CHARS = 4_000

DEAD_LETTERED = Counter("leadflow_dead_letters_total", "Messages sent to the dead-letter queue", ["group", "reason"])


def printable(text: str, limit: int = _MAX_ERROR_CHARS) -> str:
    """`text` as any database column takes it: no NUL (PostgreSQL refuses it), no lone surrogate, bounded."""
    cleaned = text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + f"... ({len(cleaned) - limit} more characters)"


def dead_letter(
    uow: UnitOfWork, group: str, record: Record, reason: str, error: str, event: Event[Any] | None = None
) -> None:
    """Keep `record` in the dead-letter table and topic with `reason`; if that fails, a last-resort row."""
    DEAD_LETTERED.labels(group, reason).inc()
    error = printable(error)
    log.warning(
        "%s: dead-lettered %s@%s:%s: %s: %s", group, record.topic, record.partition, record.offset, reason, error
    )
    try:
        with uow.savepoint():
            uow.session.add(_row(group, record, reason, error, event))
            key, value, headers = fit(record.key, record.value, _dlq_headers(group, record, reason, error))
            uow.append(topic=dead_letter_topic(record.topic), key=key, value=value, headers=headers)
    except Exception as failure:
        if is_transient(failure):
            raise
        log.exception("%s: the dead-letter write failed; keeping a last-resort row", group)
        DEAD_LETTERED.labels(group, DEAD_LETTER_FAILED).inc()
        detail = printable(f"{reason}: {error}; the dead-letter write failed: {type(failure).__name__}: {failure}")
        with uow.savepoint():
            uow.session.add(_row(group, record, DEAD_LETTER_FAILED, detail, None, keep_headers=False))


def _row(
    group: str, record: Record, reason: str, error: str, event: Event[Any] | None, *, keep_headers: bool = True
) -> DeadLetter:
    return DeadLetter(
        consumer_group=group,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=_stored_headers(record) if keep_headers and record.headers else None,
        reason=reason,
        error=error,
        event_id=event.id if event else None,
        event_type=event.type if event else None,
        created_at=utc_now(),
    )


def _stored_headers(record: Record) -> list[list[str | None]]:
    """Headers as JSON can hold them: [name, base64 of the value] pairs, in order, duplicates kept."""
    return [
        [printable(name, 1_000), None if value is None else base64.b64encode(value).decode()]
        for name, value in record.headers
    ]


def _dlq_headers(group: str, record: Record, reason: str, error: str) -> dict[str, str]:
    return {
        "leadflow.dlq.reason": reason,
        "leadflow.dlq.error": error[:1000],
        "leadflow.dlq.group": group,
        "leadflow.dlq.topic": record.topic,
        "leadflow.dlq.partition": str(record.partition),
        "leadflow.dlq.offset": str(record.offset),
    }
