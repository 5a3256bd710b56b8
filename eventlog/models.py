"""Tables of the event log: the outbox (which is the log on the SQL backend), inbox, offsets, dead letters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text, Uuid, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from database.base import schema_metadata
from database.types import UtcDateTime

# SQLite makes an INTEGER PRIMARY KEY the rowid, which is what gives positions their order there.
Position = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Tables of the event log, in the `eventlog` schema."""

    metadata = schema_metadata("eventlog")


class OutboxRecord(Base):
    """An event written in the same transaction as the state change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_topic_position", "topic", "position"),
        Index(
            "ix_outbox_unsent",
            "position",
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
            sqlite_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
        Index(
            "ix_outbox_failed",
            "position",
            postgresql_where=text("failed_at IS NOT NULL"),
            sqlite_where=text("failed_at IS NOT NULL"),
        ),
    )

    position: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    event_type: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[bytes | None] = mapped_column(LargeBinary)  # null only for a dead-lettered tombstone
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # An event the broker can never take is set aside here, with why, and the relay goes on.
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failure: Mapped[str | None] = mapped_column(Text)

    def failure_summary(self) -> dict[str, Any]:
        """What an operator reads of an outbox row the broker refused."""
        return {
            "position": self.position,
            "topic": self.topic,
            "event_id": str(self.event_id) if self.event_id else None,
            "event_type": self.event_type,
            "size": len(self.value or b""),
            "failed_at": self.failed_at.isoformat() if self.failed_at else None,
            "failure": self.failure,
        }


class InboxRecord(Base):
    """An event a consumer group has handled: a second delivery finds it here and is skipped."""

    __tablename__ = "inbox"

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsumerOffset(Base):
    """How far a consumer group has read a topic of the SQL log (the next position to read is after it)."""

    __tablename__ = "consumer_offset"

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeadLetter(Base):
    """A message a consumer could not handle, kept with its original bytes and the reason."""

    __tablename__ = "dead_letter"

    id: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=True)
    consumer_group: Mapped[str] = mapped_column(String(200), index=True)
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    # The original bytes, whatever they are: a null or binary or huge key, a tombstone's null value.
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes | None] = mapped_column(LargeBinary)
    headers: Mapped[list[Any] | None] = mapped_column(JSON, comment="[name, base64 value] pairs.")
    reason: Mapped[str] = mapped_column(String(50))
    error: Mapped[str] = mapped_column(Text)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    event_type: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def summary(self) -> dict[str, Any]:
        """What an operator reads first."""
        return {
            "id": self.id,
            "consumer_group": self.consumer_group,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "reason": self.reason,
            "error": self.error,
            "event_id": str(self.event_id) if self.event_id else None,
            "event_type": self.event_type,
            "key_size": None if self.key is None else len(self.key),
            "value_size": None if self.value is None else len(self.value),
            "created_at": self.created_at.isoformat(),
        }
