"""Timers: the timer table and the dead letters of timers that could not fire.

Revision ID: 0001_timers
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import UtcDateTime

revision: str = "0001_timers"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "timers"
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "timer",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("fired_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_timer"),
        sa.UniqueConstraint("owner", "key", name="uq_timer_owner_key"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_timer_pending_due",
        "timer",
        ["due_at", "id"],
        schema=SCHEMA,
        postgresql_where=sa.text("fired_at IS NULL"),
        sqlite_where=sa.text("fired_at IS NULL"),
    )
    op.create_table(
        "timer_dead_letter",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("timer_id", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(50), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_timer_dead_letter"),
        schema=SCHEMA,
    )
    op.create_index("ix_timer_dead_letter_owner", "timer_dead_letter", ["owner"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_timer_dead_letter_owner", table_name="timer_dead_letter", schema=SCHEMA)
    op.drop_table("timer_dead_letter", schema=SCHEMA)
    op.drop_index("ix_timer_pending_due", table_name="timer", schema=SCHEMA)
    op.drop_table("timer", schema=SCHEMA)
