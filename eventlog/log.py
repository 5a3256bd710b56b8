"""The event log's interface: what every backend gives a consumer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Record:
    """One message as read from the log, before it is decoded."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes


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

    def close(self) -> None:
        """Leave the group."""
        ...


class TransientError(Exception):
    """A fault that passes (database or broker unreachable, a lost race): retry, never dead-letter."""
