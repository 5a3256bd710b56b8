"""Tables of lead_scoring: accounts, contacts, touches, leads, the lead definition and its audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from database.base import schema_metadata
from database.types import UtcDateTime

Serial = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Tables of lead_scoring, in the `lead_scoring` schema."""

    metadata = schema_metadata("lead_scoring")
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: UtcDateTime}


class Account(Base):
    """A company that buys: contacts roll up to it, and its attributes feed the fit score."""

    __tablename__ = "account"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(320), unique=True, comment="The account key events are keyed by.")
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    domain: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(300))
    normalised_name: Mapped[str | None] = mapped_column(String(300), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    standing: Mapped[bool | None] = mapped_column(comment="Met the account's MQL criteria when last seen.")
    standing_version: Mapped[int | None] = mapped_column(comment="The definition version of `standing`.")


class Contact(Base):
    """A person at an account (or not yet at one); each contact is one lead."""

    __tablename__ = "contact"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lead_scoring.account.id"), index=True)
    account_rule: Mapped[str] = mapped_column(String(30), comment="The matching rule that found the account.")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    buying_role: Mapped[str | None] = mapped_column(String(50))
    pain_points: Mapped[list[str]] = mapped_column(default=list)
    consent: Mapped[str] = mapped_column(String(20), default="unknown")
    erased_at: Mapped[datetime | None]
    merged_into: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactExternalId(Base):
    """An id a source system knows the contact by (Segment user or anonymous id, Mautic id, CRM id)."""

    __tablename__ = "contact_external_id"

    system: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(300), primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_scoring.contact.id"), index=True)


class Touch(Base):
    """A marketing touch of a contact, kept as history for scoring, explanation and simulation."""

    __tablename__ = "touch"
    __table_args__ = (Index("ix_touch_contact_id_occurred_at", "contact_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_scoring.contact.id"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    touch_type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))
    campaign: Mapped[str | None] = mapped_column(String(200))
    content_id: Mapped[str | None] = mapped_column(String(200))
    content_tags: Mapped[list[str]] = mapped_column(default=list)
    source_system: Mapped[str] = mapped_column(String(50))
    url: Mapped[str | None] = mapped_column(Text)


class Lead(Base):
    """A contact's standing under the published definition: scores, stage, and why."""

    __tablename__ = "lead"

    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_scoring.contact.id"), primary_key=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    fit_score: Mapped[float]
    fit_grade: Mapped[str] = mapped_column(String(1))
    engagement_score: Mapped[float]
    account_score: Mapped[float]
    definition_version: Mapped[int]
    qualification_cycle: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(String(64))
    # Read by the explanation API only: not loaded with the lead (it is the biggest column by far).
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict, deferred=True)
    scored_at: Mapped[datetime]
    mql_at: Mapped[datetime | None]
    mql_version: Mapped[int | None] = mapped_column(
        comment="The definition version in force when the lead last qualified."
    )
    cycle_started_at: Mapped[datetime | None] = mapped_column(comment="Hand-raises before it belong to a past cycle.")
    recycled_until: Mapped[datetime | None] = mapped_column(comment="Sales' recycle policy: no requalifying before.")
    # The scoring engine's state of the lead (scoring.engine.stored): read with the lead by the consumer only.
    engine: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, deferred=True, comment="Running engagement, roll-up eligibility, role."
    )


class LeadDefinitionVersion(Base):
    """A lead definition document: a draft being agreed, or a published (immutable) version."""

    __tablename__ = "lead_definition"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True, comment="draft, published, superseded")
    revision: Mapped[int] = mapped_column(comment="Bumped by every edit; approvals name the revision they saw.")
    version: Mapped[int | None] = mapped_column(unique=True, comment="Set when published.")
    document: Mapped[dict[str, Any]]
    based_on_version: Mapped[int | None]
    marketing_approved_by: Mapped[str | None] = mapped_column(String(200))
    marketing_approved_revision: Mapped[int | None]
    marketing_approved_at: Mapped[datetime | None]
    sales_approved_by: Mapped[str | None] = mapped_column(String(200))
    sales_approved_revision: Mapped[int | None]
    sales_approved_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None]


class DefinitionAudit(Base):
    """Who did what to which definition, when: the governance trail."""

    __tablename__ = "lead_definition_audit"

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    definition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_scoring.lead_definition.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    revision: Mapped[int]
    at: Mapped[datetime]
    detail: Mapped[str | None] = mapped_column(Text)


class RescoreJob(Base):
    """Rescoring every lead under a newly published version, with progress for the API and the CLI."""

    __tablename__ = "rescore_job"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    definition_version: Mapped[int] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), comment="pending, running, done, failed")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    cursor: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, comment="The last scope rescored (account id, or contact id without one); a restart goes on after it."
    )
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    mqls_still_qualified: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="Open MQLs the new version qualifies too."
    )
    mqls_kept_accepted: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="Open MQLs it no longer qualifies, kept: a handoff accepted them."
    )
    mqls_kept_by_policy: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="Open MQLs it no longer qualifies, kept: republication.open_mqls keep."
    )
    mqls_returned_to_engaged: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="Open MQLs it no longer qualifies, returned to engaged."
    )


class SimulationJob(Base):
    """A simulation asked for over the API: its window, its progress while it runs, and its result once done."""

    __tablename__ = "simulation_job"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # No foreign key: deleting a draft keeps its simulations (a job still pending then fails, naming why).
    definition_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True, comment="pending, running, done, failed")
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    segment: Mapped[str | None] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str | None] = mapped_column(String(20), comment="loading, replaying or comparing, while running.")
    done: Mapped[int] = mapped_column(default=0, comment="Touches replayed (over every definition simulated).")
    total: Mapped[int] = mapped_column(default=0, comment="Touches to replay; 0 until the history is loaded.")
    attempts: Mapped[int] = mapped_column(default=0, comment="Claims so far: a job whose runner died is taken again.")
    lease_until: Mapped[datetime | None] = mapped_column(
        comment="A running job's runner renews this; once it passes, the runner is taken for dead."
    )
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="The comparison, as the API answers it.")
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class SalesOutcome(Base):
    """What sales decided about a lead (from the feedback topic): the evidence simulations are judged by."""

    __tablename__ = "sales_outcome"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    outcome: Mapped[str] = mapped_column(String(20), comment="accepted, rejected, won, lost")
    reason: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]


class KnownField(Base):
    """A custom field path or a touch type seen in what was ingested: what definition warnings compare rules with."""

    __tablename__ = "known_field"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True, comment="path or touch_type")
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    first_seen_at: Mapped[datetime]
