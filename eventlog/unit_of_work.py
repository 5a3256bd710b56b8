"""The unit of work: one database transaction in which state changes and the events they cause commit together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from eventlog.limits import check_size
from eventlog.models import OutboxRecord
from events.envelope import utc_now
from events.registry import Event, encode

# Any constant will do: it names the lock that orders appends to the SQL log on PostgreSQL.
_APPEND_LOCK = 0x1EADF10


class UnitOfWork:
    """`with uow: ...; uow.emit(event); uow.commit()`; leaving without commit rolls everything back.

    Appended events are kept in memory and written to the outbox by one statement when the unit of work commits:
    a batch of touches emits hundreds of events, and the outbox is read only after commit.
    """

    def __init__(self, session_factory: sessionmaker[Session], *, ordered_appends: bool = False) -> None:
        self._session_factory = session_factory
        # On the SQL backend readers follow positions, so on PostgreSQL appends are serialised: a position
        # must never become visible after a higher one, or a reader would step over it.
        self._ordered_appends = ordered_appends
        self._appended: list[dict[str, Any]] = []
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self._appended = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()
        self._appended = []

    def emit(self, event: Event[Any]) -> None:
        """Append `event` to the outbox; it is published only if this unit of work commits.

        An event larger than the broker takes raises `RecordTooLarge` here, in the handler's transaction.
        """
        self.append(topic=event.topic, key=event.key.encode(), value=encode(event), event=event)

    def append(
        self,
        *,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        event: Event[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Append raw bytes to `topic` (dead letters use this; events go through `emit`)."""
        check_size(topic, key, value, headers)
        self._appended.append(
            {
                "topic": topic,
                "key": key,
                "event_id": event.id if event else None,
                "event_type": event.type if event else None,
                "value": value,
                "headers": headers,
                "created_at": utc_now(),
            }
        )

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: if the block raises, its changes and the events it appended are undone."""
        appended = len(self._appended)
        try:
            with self.session.begin_nested():
                yield
                self.flush()
        except BaseException:
            del self._appended[appended:]
            raise

    def flush(self) -> None:
        """Write the appended events to the outbox now (a handler that wants their errors as its own calls this)."""
        if self._appended:
            if self._ordered_appends:
                self.session.execute(select(func.pg_advisory_xact_lock(_APPEND_LOCK)))
            self.session.execute(insert(OutboxRecord), self._appended)  # positions in the order of appending
            self._appended = []

    def commit(self) -> None:
        """Commit state and events together."""
        self.flush()
        self.session.commit()

    def rollback(self) -> None:
        """Discard everything since the last commit."""
        self.session.rollback()
        self._appended = []
