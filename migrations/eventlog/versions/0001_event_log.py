"""The event log: outbox (the SQL log), inbox, consumer offsets, dead letters.

Revision ID: 0001_event_log
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import UtcDateTime

revision: str = "0001_event_log"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "eventlog"
Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("position", Position, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("event_type", sa.String(200), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("position", name="pk_outbox"),
        schema=SCHEMA,
    )
    op.create_index("ix_outbox_topic_position", "outbox", ["topic", "position"], schema=SCHEMA)
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["position"],
        schema=SCHEMA,
        postgresql_where=sa.text("sent_at IS NULL"),
        sqlite_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("handled_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name="pk_inbox"),
        schema=SCHEMA,
    )
    op.create_table(
        "consumer_offset",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "topic", name="pk_consumer_offset"),
        schema=SCHEMA,
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(320), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.String(50), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("event_type", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letter"),
        schema=SCHEMA,
    )
    op.create_index("ix_dead_letter_consumer_group", "dead_letter", ["consumer_group"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_dead_letter_consumer_group", table_name="dead_letter", schema=SCHEMA)
    op.drop_table("dead_letter", schema=SCHEMA)
    op.drop_table("consumer_offset", schema=SCHEMA)
    op.drop_table("inbox", schema=SCHEMA)
    op.drop_index("ix_outbox_unsent", table_name="outbox", schema=SCHEMA)
    op.drop_index("ix_outbox_topic_position", table_name="outbox", schema=SCHEMA)
    op.drop_table("outbox", schema=SCHEMA)
