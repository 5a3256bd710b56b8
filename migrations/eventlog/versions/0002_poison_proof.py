"""Poison never stops the flow: keys and values as bytes (null allowed), failed outbox rows set aside.

Revision ID: 0002_poison_proof
Revises: 0001_event_log
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import UtcDateTime

revision: str = "0002_poison_proof"
down_revision: str | None = "0001_event_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "eventlog"


def _schema() -> str | None:
    # Batch mode recreates SQLite tables with raw statements the schema translation does not reach.
    return SCHEMA if op.get_bind().dialect.name == "postgresql" else None


UNSENT_BEFORE = sa.text("sent_at IS NULL")
UNSENT = sa.text("sent_at IS NULL AND failed_at IS NULL")


def _key_to_bytes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(table, "key", type_=sa.LargeBinary(), postgresql_using="convert_to(key, 'UTF8')", schema=SCHEMA)
    else:  # SQLite keeps any value in any column: recreate the table, then turn the stored text into blobs
        with op.batch_alter_table(table, schema=_schema()) as batch:
            batch.alter_column("key", type_=sa.LargeBinary())
        rows = sa.table(table, sa.column("key"), schema=_schema())
        op.execute(rows.update().where(rows.c.key.isnot(None)).values(key=sa.cast(rows.c.key, sa.LargeBinary())))


def _key_to_text(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            table,
            "key",
            type_=sa.String(320),
            postgresql_using="left(convert_from(key, 'UTF8'), 320)",
            schema=SCHEMA,
        )
    else:
        rows = sa.table(table, sa.column("key"), schema=_schema())
        op.execute(rows.update().where(rows.c.key.isnot(None)).values(key=sa.cast(rows.c.key, sa.Text())))
        with op.batch_alter_table(table, schema=_schema()) as batch:
            batch.alter_column("key", type_=sa.String(320))


def upgrade() -> None:
    op.drop_index("ix_outbox_unsent", table_name="outbox", schema=SCHEMA)
    _key_to_bytes("outbox")
    _key_to_bytes("dead_letter")
    with op.batch_alter_table("outbox", schema=_schema()) as batch:
        batch.alter_column("key", existing_type=sa.LargeBinary(), nullable=True)
        batch.alter_column("value", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("failed_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("failure", sa.Text(), nullable=True))
    with op.batch_alter_table("dead_letter", schema=_schema()) as batch:
        batch.alter_column("value", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("headers", sa.JSON(), nullable=True, comment="[name, base64 value] pairs."))
    op.create_index(
        "ix_outbox_unsent", "outbox", ["position"], schema=SCHEMA, postgresql_where=UNSENT, sqlite_where=UNSENT
    )
    op.create_index(
        "ix_outbox_failed",
        "outbox",
        ["position"],
        schema=SCHEMA,
        postgresql_where=sa.text("failed_at IS NOT NULL"),
        sqlite_where=sa.text("failed_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_failed", table_name="outbox", schema=SCHEMA)
    op.drop_index("ix_outbox_unsent", table_name="outbox", schema=SCHEMA)
    for table in ("dead_letter", "outbox"):  # tombstones and null keys had no place before this revision
        rows = sa.table(table, sa.column("key"), sa.column("value"), schema=_schema())
        op.execute(rows.delete().where(rows.c.value.is_(None)))
    outbox = sa.table("outbox", sa.column("key"), schema=_schema())
    op.execute(outbox.delete().where(outbox.c.key.is_(None)))
    with op.batch_alter_table("dead_letter", schema=_schema()) as batch:
        batch.drop_column("headers")
        batch.alter_column("value", existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table("outbox", schema=_schema()) as batch:
        batch.drop_column("failure")
        batch.drop_column("failed_at")
        batch.alter_column("value", existing_type=sa.LargeBinary(), nullable=False)
        batch.alter_column("key", existing_type=sa.LargeBinary(), nullable=False)
    _key_to_text("dead_letter")
    _key_to_text("outbox")
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["position"],
        schema=SCHEMA,
        postgresql_where=UNSENT_BEFORE,
        sqlite_where=UNSENT_BEFORE,
    )
