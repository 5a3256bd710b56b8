"""The SQL backend: the outbox table is the log, consumer offsets are rows in the same database."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from eventlog.log import Record, TransientError
from eventlog.models import ConsumerOffset, OutboxRecord
from events.envelope import utc_now

_LAG_EVERY_S = 5.0


class SqlLogConsumer:
    """Reads the outbox by position; one consumer per group (a second one loses the offset race and retries)."""

    def __init__(self, session_factory: sessionmaker[Session], group: str, topics: Sequence[str]) -> None:
        self._session_factory = session_factory
        self._group = group
        self._topics = tuple(topics)
        self._committed: dict[str, int] | None = None  # as stored in the table
        self._position: dict[str, int] = {}  # as far as this consumer has read
        self._lag: dict[tuple[str, int], int] = {}
        self._lag_checked_at = -_LAG_EVERY_S

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """The next records after this consumer's position."""
        with self._session_factory() as session:
            if self._committed is None:
                self._committed = self._load_offsets(session)
                self._position = dict(self._committed)
            after = [
                (OutboxRecord.topic == topic) & (OutboxRecord.position > self._position[topic])
                for topic in self._topics
            ]
            rows = session.execute(
                select(OutboxRecord.topic, OutboxRecord.position, OutboxRecord.key, OutboxRecord.value)
                .where(or_(*after))
                .order_by(OutboxRecord.position)
                .limit(max_records)
            ).all()
        records = [Record(topic, 0, position, key, value) for topic, position, key, value in rows]
        for record in records:
            self._position[record.topic] = record.offset
        return records

    def _load_offsets(self, session: Session) -> dict[str, int]:
        stored = dict(
            session.execute(
                select(ConsumerOffset.topic, ConsumerOffset.position).where(
                    ConsumerOffset.consumer_group == self._group
                )
            ).all()
        )
        return {topic: stored.get(topic, 0) for topic in self._topics}

    def stage_offsets(self, session: Session, records: Sequence[Record]) -> None:
        """Move the stored offsets forward in the handler's transaction, if nobody else moved them meanwhile."""
        assert self._committed is not None, "poll before stage_offsets"
        now = utc_now()
        for topic, last in _last_offsets(records).items():
            previous = self._committed[topic]
            if previous == 0:
                exists = session.scalar(
                    select(ConsumerOffset.position).where(
                        ConsumerOffset.consumer_group == self._group, ConsumerOffset.topic == topic
                    )
                )
                if exists is None:
                    try:
                        session.execute(
                            insert(ConsumerOffset).values(
                                consumer_group=self._group, topic=topic, position=last, updated_at=now
                            )
                        )
                    except IntegrityError as error:
                        raise TransientError(f"{self._group} on {topic}: another consumer started too") from error
                    continue
            moved = session.execute(
                update(ConsumerOffset)
                .where(
                    ConsumerOffset.consumer_group == self._group,
                    ConsumerOffset.topic == topic,
                    ConsumerOffset.position == previous,
                )
                .values(position=last, updated_at=now)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise TransientError(f"offset of {self._group} on {topic} moved under us (another consumer?)")

    def commit(self, records: Sequence[Record]) -> None:
        """The offsets are already in the database; remember them as the new baseline."""
        assert self._committed is not None
        self._committed.update(_last_offsets(records))

    def rewind(self, records: Sequence[Record]) -> None:
        """Forget the read-ahead: the next poll starts again from the stored offsets."""
        self._committed = None

    def lag(self) -> dict[tuple[str, int], int]:
        """Per topic: positions in the log after this consumer's (looked up at most every few seconds)."""
        now = time.monotonic()
        if now - self._lag_checked_at >= _LAG_EVERY_S and self._position:
            self._lag_checked_at = now
            with self._session_factory() as session:
                newest = dict(
                    session.execute(
                        select(OutboxRecord.topic, func.max(OutboxRecord.position))
                        .where(OutboxRecord.topic.in_(self._topics))
                        .group_by(OutboxRecord.topic)
                    ).all()
                )
            self._lag = {(topic, 0): max(0, newest.get(topic, 0) - read) for topic, read in self._position.items()}
        return self._lag

    def close(self) -> None:
        """Nothing to leave: the group lives in the database."""


def _last_offsets(records: Sequence[Record]) -> dict[str, int]:
    last: dict[str, int] = {}
    for record in records:
        last[record.topic] = max(record.offset, last.get(record.topic, 0))
    return last
