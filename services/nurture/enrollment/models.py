"""Tables of enrollments: one lead in one track version, and the history of its steps."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from services.nurture.base import Base

Serial = BigInteger().with_variant(Integer(), "sqlite")
ACTIVE = "active"
EXITED = "exited"


class NurtureEnrollment(Base):
    """A lead in a track version: where it is (the step awaited and when it is due) or why it left."""

    __tablename__ = "nurture_enrollment"
    __table_args__ = (
        # At most one active enrollment per contact, whatever two consumers decide at once.
        Index(
            "ux_nurture_enrollment_active_contact",
            "contact_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index("ix_nurture_enrollment_track_key", "track_key", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(index=True)
    account_key: Mapped[str] = mapped_column(String(320))
    track_key: Mapped[str] = mapped_column(String(200))
    track_version: Mapped[int] = mapped_column(Integer)
    entry_reason: Mapped[str] = mapped_column(String(64))
    handoff_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(20), comment="active or exited")
    exit_reason: Mapped[str | None] = mapped_column(String(64))
    # The step awaited (its number, from 1), and whether its action is due ("action") or its engagement
    # window is open ("branch").
    step: Mapped[int | None] = mapped_column(Integer)
    phase: Mapped[str | None] = mapped_column(String(20))
    next_due_at: Mapped[datetime | None]
    steps_sent: Mapped[int] = mapped_column(Integer)
    last_step: Mapped[int] = mapped_column(Integer, comment="the position (from 1) of the last step delivered")
    enrolled_at: Mapped[datetime]
    exited_at: Mapped[datetime | None]


class NurtureStepRun(Base):
    """What became of a step when it came due: sent, skipped, deferred (and until when), or not sent and why."""

    __tablename__ = "nurture_step_run"
    __table_args__ = (Index("ix_nurture_step_run_contact_channel_at", "contact_id", "channel", "at"),)

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    enrollment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    contact_id: Mapped[uuid.UUID]
    step_id: Mapped[str] = mapped_column(String(64))
    step: Mapped[int] = mapped_column(Integer, comment="the step's position in the track, from 1")
    outcome: Mapped[str] = mapped_column(String(20), comment="sent, skipped, deferred, branched or withheld")
    channel: Mapped[str | None] = mapped_column(String(64))
    content_id: Mapped[str | None] = mapped_column(String(200))
    action_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    due_at: Mapped[datetime]
    at: Mapped[datetime]
    deferred_until: Mapped[datetime | None]
    detail: Mapped[str | None] = mapped_column(String(1000))
    engaged_at: Mapped[datetime | None]
