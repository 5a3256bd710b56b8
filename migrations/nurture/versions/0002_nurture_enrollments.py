"""Nurture: the contact projection, enrollments and the history of their steps.

Revision ID: 0002_nurture_enrollments
Revises: 0001_nurture_tracks
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import UtcDateTime

revision: str = "0002_nurture_enrollments"
down_revision: str | None = "0001_nurture_tracks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "nurture"
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "nurture_contact",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("account_key", sa.String(320), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("fit_grade", sa.String(1), nullable=True),
        sa.Column("industry", sa.String(1000), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("buying_role", sa.String(64), nullable=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("campaigns", sa.JSON(), nullable=False),
        sa.Column("marketing_consent", sa.Boolean(), nullable=True),
        sa.Column("unsubscribed_at", UtcDateTime(), nullable=True),
        sa.Column("erased_at", UtcDateTime(), nullable=True),
        sa.Column("scored_at", UtcDateTime(), nullable=True),
        sa.Column("mql_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_nurture_contact"),
        schema=SCHEMA,
    )
    op.create_index("ix_nurture_contact_email", "nurture_contact", ["email"], schema=SCHEMA)
    op.create_table(
        "nurture_enrollment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("account_key", sa.String(320), nullable=False),
        sa.Column("track_key", sa.String(200), nullable=False),
        sa.Column("track_version", sa.Integer(), nullable=False),
        sa.Column("entry_reason", sa.String(64), nullable=False),
        sa.Column("handoff_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, comment="active or exited"),
        sa.Column("exit_reason", sa.String(64), nullable=True),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(20), nullable=True),
        sa.Column("next_due_at", UtcDateTime(), nullable=True),
        sa.Column("steps_sent", sa.Integer(), nullable=False),
        sa.Column(
            "last_step", sa.Integer(), nullable=False, comment="the position (from 1) of the last step delivered"
        ),
        sa.Column("enrolled_at", UtcDateTime(), nullable=False),
        sa.Column("exited_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_nurture_enrollment"),
        schema=SCHEMA,
    )
    op.create_index("ix_nurture_enrollment_contact_id", "nurture_enrollment", ["contact_id"], schema=SCHEMA)
    op.create_index("ix_nurture_enrollment_track_key", "nurture_enrollment", ["track_key", "status"], schema=SCHEMA)
    op.create_index(
        "ux_nurture_enrollment_active_contact",
        "nurture_enrollment",
        ["contact_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "nurture_step_run",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("enrollment_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False, comment="the step's position in the track, from 1"),
        sa.Column("outcome", sa.String(20), nullable=False, comment="sent, skipped, deferred, branched or withheld"),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("content_id", sa.String(200), nullable=True),
        sa.Column("action_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("deferred_until", UtcDateTime(), nullable=True),
        sa.Column("detail", sa.String(1000), nullable=True),
        sa.Column("engaged_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_nurture_step_run"),
        sa.UniqueConstraint("action_id", name="uq_nurture_step_run_action_id"),
        schema=SCHEMA,
    )
    op.create_index("ix_nurture_step_run_enrollment_id", "nurture_step_run", ["enrollment_id"], schema=SCHEMA)
    op.create_index(
        "ix_nurture_step_run_contact_channel_at",
        "nurture_step_run",
        ["contact_id", "channel", "at"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("nurture_step_run", schema=SCHEMA)
    op.drop_table("nurture_enrollment", schema=SCHEMA)
    op.drop_table("nurture_contact", schema=SCHEMA)
