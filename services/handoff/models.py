"""Tables of handoff: handoffs, their assignments and routing decisions, round-robin pointers, stored answers.

Every table is declared on services.handoff.base.Base; the sub-features' modules are imported here so Alembic
sees them all.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.handoff.base import Base
from services.handoff.org import models as org_models
from services.handoff.projection import models as projection_models

Serial = BigInteger().with_variant(Integer(), "sqlite")


class HandoffRecord(Base):
    """A handoff: its state (the state machine's fields), the dossier, and what the queue filters and sorts by."""

    __tablename__ = "handoff"
    __table_args__ = (
        Index("ix_handoff_rep_status", "rep_id", "status"),
        Index("ix_handoff_status_due", "status", "due_at"),
        Index("ix_handoff_account", "account_id", "status"),
        Index("ix_handoff_created", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Equal to lead_id while the handoff is open, else null: unique, so a lead has one open handoff at most.
    open_lead_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    account_key: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    # Every UPDATE says WHERE version = the version loaded: a change made meanwhile is never overwritten.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    rep_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    assigned_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    breached: Mapped[bool] = mapped_column(Boolean)
    breach_count: Mapped[int] = mapped_column(Integer)
    escalated_to: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    excluded_reps: Mapped[list[str]] = mapped_column(JSON, comment="reps who let its SLA pass: not routed to again")
    accepted_at: Mapped[datetime | None]
    time_to_accept_hours: Mapped[float | None] = mapped_column(Float, comment="business hours, rep's calendar")
    rejection_reason: Mapped[str | None] = mapped_column(String(64))
    opportunity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="won or lost: amount, lost reason")
    closed_at: Mapped[datetime | None]
    definition_version: Mapped[int] = mapped_column(Integer)
    qualification_cycle: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20), comment="criteria or hand_raiser")
    fit_grade: Mapped[str | None] = mapped_column(String(1))
    score: Mapped[float] = mapped_column(Float, comment="the definition's combined score (fit and engagement)")
    dossier: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Assignment(Base):
    """Each time a handoff was given to a rep: what 'new handoffs per day' counts, on the rep's own calendar day."""

    __tablename__ = "handoff_assignment"
    __table_args__ = (Index("ix_handoff_assignment_day", "rep_id", "local_day"),)

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    handoff_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    rep_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    assigned_at: Mapped[datetime] = mapped_column(index=True)
    local_day: Mapped[str] = mapped_column(String(10), comment="the date in the rep's time zone, YYYY-MM-DD")


class RoutingDecisionRecord(Base):
    """A routing decision as made: candidates, skips and why, the rules tried, the winner."""

    __tablename__ = "handoff_routing_decision"

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    handoff_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    decided_at: Mapped[datetime]
    trigger: Mapped[str] = mapped_column(String(40), comment="qualified, sla_breached, reroute, manager")
    org_version: Mapped[int | None] = mapped_column(Integer)
    rep_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)


class PoolPointer(Base):
    """A rep's round-robin pointer in a team's pool: the lowest eligible pointer gets the next lead."""

    __tablename__ = "handoff_pool_pointer"

    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    rep_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    pointer: Mapped[float] = mapped_column(Float)


class StoredAnswer(Base):
    """The first answer to a POST with an Idempotency-Key: a retry gets it again, and nothing happens twice."""

    __tablename__ = "handoff_idempotency"

    subject: Mapped[str] = mapped_column(String(320), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request: Mapped[str] = mapped_column(String(64), comment="sha256 of method, path and body")
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(index=True)


class Insight(Base):
    """What a rep logged about an account."""

    __tablename__ = "handoff_insight"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    handoff_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    logged_by: Mapped[str] = mapped_column(String(200))
    logged_at: Mapped[datetime]
    insight: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)


__all__ = ["Base", "org_models", "projection_models"]
