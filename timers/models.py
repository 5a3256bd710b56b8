"""Tables of the timers: the timers themselves and the ones that could not fire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from database.base import schema_metadata
from database.types import UtcDateTime

# SQLite makes an INTEGER PRIMARY KEY the rowid (and autoincrements it); BIGINT elsewhere.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Tables of the timers, in the `timers` schema."""

    metadata = schema_metadata("timers")


class TimerRecord(Base):
    """A timer: `kind` fires for `owner` at `due_at`. One row per (owner, key); scheduling the key again moves it.

    A fired timer keeps its row with `fired_at` set (the real time it fired); scheduling its key again makes it
    pending once more. Only pending rows are in the index the scheduler reads, so fired rows cost it nothing.
    """

    __tablename__ = "timer"
    __table_args__ = (
        UniqueConstraint("owner", "key"),
        Index(
            "ix_timer_pending_due",
            "due_at",
            "id",
            postgresql_where=text("fired_at IS NULL"),
            sqlite_where=text("fired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(320))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TimerDeadLetter(Base):
    """A timer that fired without its effect: nobody handles its owner or kind, or its handler failed."""

    __tablename__ = "timer_dead_letter"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    timer_id: Mapped[int] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(320))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(50))
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def summary(self) -> dict[str, Any]:
        """What an operator reads first."""
        return {"owner": self.owner, "kind": self.kind, "key": self.key, "reason": self.reason, "error": self.error}
