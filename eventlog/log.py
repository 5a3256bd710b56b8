"""The event log's interface: what every backend gives a consumer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

Header = tuple[str, bytes | None]


@dataclass(frozen=True, slots=True)
class Record:
    """One message as read from the log, before it is decoded: whatever a producer sent, as bytes.

    A key or value may be null (a tombstone has no value), binary, or as large as the broker allows.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()


class LogConsumer(Protocol):
    """A member of a consumer group reading some topics, in order per key."""

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """The next records, in log order per partition; empty when none came within `timeout_s`."""
        ...

    def stage_offsets(self, session: Session, records: Sequence[Record]) -> None:
        """Record the offsets of `records` inside the handler's transaction, where the backend keeps them there."""
        ...

    def commit(self, records: Sequence[Record]) -> None:
        """Mark `records` consumed; called only after the handler's transaction committed."""
        ...

    def rewind(self, records: Sequence[Record]) -> None:
        """Deliver `records` again on the next poll, after a failed attempt."""
        ...

    def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet read, per (topic, partition) this consumer reads, as far as it knows."""
        ...

    def close(self) -> None:
        """Leave the group."""
        ...


class TransientError(Exception):
    """A fault that passes (database or broker unreachable, a lost race): retry, never dead-letter."""
