"""Simulations as jobs: the window asked for, progress while running, the result once done.

Revision ID: 0006_simulation_jobs
Revises: 0005_scoring_engine
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import database.types

revision: str = "0006_simulation_jobs"
down_revision: str | None = "0005_scoring_engine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "simulation_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("definition_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False, comment="pending, running, done, failed"),
        sa.Column("window_start", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("window_end", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("segment", sa.String(length=200), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column(
            "phase", sa.String(length=20), nullable=True, comment="loading, replaying or comparing, while running."
        ),
        sa.Column("done", sa.Integer(), nullable=False, comment="Touches replayed (over every definition simulated)."),
        sa.Column("total", sa.Integer(), nullable=False, comment="Touches to replay; 0 until the history is loaded."),
        sa.Column(
            "attempts", sa.Integer(), nullable=False, comment="Claims so far: a job whose runner died is taken again."
        ),
        sa.Column(
            "lease_until",
            database.types.UtcDateTime(timezone=True),
            nullable=True,
            comment="A running job's runner renews this; once it passes, the runner is taken for dead.",
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True, comment="The comparison, as the API answers it."),
        sa.Column("created_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", database.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", database.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulation_job")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("simulation_job", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_simulation_job_definition_id"), ["definition_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_simulation_job_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("simulation_job", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulation_job_status"))
        batch_op.drop_index(batch_op.f("ix_simulation_job_definition_id"))
    op.drop_table("simulation_job", schema="lead_scoring")
