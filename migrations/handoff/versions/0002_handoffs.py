"""Handoff: handoffs with their dossiers, assignments, routing decisions, pool pointers, kept answers, insights,
and the projection of the leads and definitions topics.

Revision ID: 0002_handoffs
Revises: 0001_routing_org
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import UtcDateTime

revision: str = "0002_handoffs"
down_revision: str | None = "0001_routing_org"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "handoff"
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "handoff",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("open_lead_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("account_key", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_at", UtcDateTime(), nullable=True),
        sa.Column("warn_at", UtcDateTime(), nullable=True),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("breach_count", sa.Integer(), nullable=False),
        sa.Column("escalated_to", sa.Uuid(), nullable=True),
        sa.Column("excluded_reps", sa.JSON(), nullable=False, comment="reps who let its SLA pass: not routed to again"),
        sa.Column("accepted_at", UtcDateTime(), nullable=True),
        sa.Column("time_to_accept_hours", sa.Float(), nullable=True, comment="business hours, rep's calendar"),
        sa.Column("rejection_reason", sa.String(length=64), nullable=True),
        sa.Column("opportunity", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True, comment="won or lost: amount, lost reason"),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("qualification_cycle", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False, comment="criteria or hand_raiser"),
        sa.Column("fit_grade", sa.String(length=1), nullable=True),
        sa.Column("score", sa.Float(), nullable=False, comment="the definition's combined score (fit and engagement)"),
        sa.Column("dossier", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff"),
        sa.UniqueConstraint("open_lead_id", name="uq_handoff_open_lead_id"),
        schema=SCHEMA,
    )
    op.create_index("ix_handoff_account", "handoff", ["account_id", "status"], schema=SCHEMA)
    op.create_index("ix_handoff_created", "handoff", ["created_at", "id"], schema=SCHEMA)
    op.create_index("ix_handoff_rep_status", "handoff", ["rep_id", "status"], schema=SCHEMA)
    op.create_index("ix_handoff_status_due", "handoff", ["status", "due_at"], schema=SCHEMA)

    op.create_table(
        "handoff_account",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("account_key", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=320), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=True),
        sa.Column("industry", sa.Text(), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("crm_account_id", sa.String(length=200), nullable=True),
        sa.Column("engaged_contacts", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_handoff_account"),
        schema=SCHEMA,
    )
    op.create_table(
        "handoff_assignment",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("handoff_id", sa.Uuid(), nullable=False),
        sa.Column("rep_id", sa.Uuid(), nullable=False),
        sa.Column("assigned_at", UtcDateTime(), nullable=False),
        sa.Column(
            "local_day", sa.String(length=10), nullable=False, comment="the date in the rep's time zone, YYYY-MM-DD"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_assignment"),
        schema=SCHEMA,
    )
    op.create_index("ix_handoff_assignment_assigned_at", "handoff_assignment", ["assigned_at"], schema=SCHEMA)
    op.create_index("ix_handoff_assignment_day", "handoff_assignment", ["rep_id", "local_day"], schema=SCHEMA)

    op.create_table(
        "handoff_contact",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("account_key", sa.String(length=320), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False, comment="phone, linkedin_url, country, first/last name"),
        sa.Column("buying_role", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=True),
        sa.Column("fit_score", sa.Float(), nullable=True),
        sa.Column("fit_grade", sa.String(length=1), nullable=True),
        sa.Column("engagement_score", sa.Float(), nullable=True),
        sa.Column("last_touch_at", UtcDateTime(), nullable=True),
        sa.Column("recent_touches", sa.JSON(), nullable=False, comment="newest first, at most 20"),
        sa.Column("updated_at", UtcDateTime(), nullable=False, comment="the time of the newest event applied"),
        sa.PrimaryKeyConstraint("contact_id", name="pk_handoff_contact"),
        schema=SCHEMA,
    )
    op.create_index("ix_handoff_contact_account_id", "handoff_contact", ["account_id"], schema=SCHEMA)

    op.create_table(
        "handoff_definition",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sla", sa.JSON(), nullable=False),
        sa.Column("rejection_reasons", sa.JSON(), nullable=False, comment="[{code, label, recycle}]"),
        sa.Column("required_roles", sa.JSON(), nullable=False, comment="roles the buying committee needs"),
        sa.Column(
            "published_at", UtcDateTime(), nullable=False, comment="the latest publication (a rollback publishes again)"
        ),
        sa.PrimaryKeyConstraint("version", name="pk_handoff_definition"),
        schema=SCHEMA,
    )
    op.create_table(
        "handoff_idempotency",
        sa.Column("subject", sa.String(length=320), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request", sa.String(length=64), nullable=False, comment="sha256 of method, path and body"),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "key", name="pk_handoff_idempotency"),
        schema=SCHEMA,
    )
    op.create_index("ix_handoff_idempotency_created_at", "handoff_idempotency", ["created_at"], schema=SCHEMA)

    op.create_table(
        "handoff_insight",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("handoff_id", sa.Uuid(), nullable=True),
        sa.Column("logged_by", sa.String(length=200), nullable=False),
        sa.Column("logged_at", UtcDateTime(), nullable=False),
        sa.Column("insight", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_insight"),
        schema=SCHEMA,
    )
    op.create_index("ix_handoff_insight_account_id", "handoff_insight", ["account_id"], schema=SCHEMA)

    op.create_table(
        "handoff_pool_pointer",
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("rep_id", sa.Uuid(), nullable=False),
        sa.Column("pointer", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("team", "rep_id", name="pk_handoff_pool_pointer"),
        schema=SCHEMA,
    )
    op.create_table(
        "handoff_routing_decision",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("handoff_id", sa.Uuid(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False, comment="qualified, sla_breached, reroute, manager"),
        sa.Column("org_version", sa.Integer(), nullable=True),
        sa.Column("rep_id", sa.Uuid(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_routing_decision"),
        schema=SCHEMA,
    )
    op.create_index("ix_handoff_routing_decision_handoff_id", "handoff_routing_decision", ["handoff_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_handoff_routing_decision_handoff_id", table_name="handoff_routing_decision", schema=SCHEMA)

    op.drop_table("handoff_routing_decision", schema=SCHEMA)
    op.drop_table("handoff_pool_pointer", schema=SCHEMA)
    op.drop_index("ix_handoff_insight_account_id", table_name="handoff_insight", schema=SCHEMA)

    op.drop_table("handoff_insight", schema=SCHEMA)
    op.drop_index("ix_handoff_idempotency_created_at", table_name="handoff_idempotency", schema=SCHEMA)

    op.drop_table("handoff_idempotency", schema=SCHEMA)
    op.drop_table("handoff_definition", schema=SCHEMA)
    op.drop_index("ix_handoff_contact_account_id", table_name="handoff_contact", schema=SCHEMA)

    op.drop_table("handoff_contact", schema=SCHEMA)
    op.drop_index("ix_handoff_assignment_day", table_name="handoff_assignment", schema=SCHEMA)
    op.drop_index("ix_handoff_assignment_assigned_at", table_name="handoff_assignment", schema=SCHEMA)

    op.drop_table("handoff_assignment", schema=SCHEMA)
    op.drop_table("handoff_account", schema=SCHEMA)
    op.drop_index("ix_handoff_status_due", table_name="handoff", schema=SCHEMA)
    op.drop_index("ix_handoff_rep_status", table_name="handoff", schema=SCHEMA)
    op.drop_index("ix_handoff_created", table_name="handoff", schema=SCHEMA)
    op.drop_index("ix_handoff_account", table_name="handoff", schema=SCHEMA)

    op.drop_table("handoff", schema=SCHEMA)
