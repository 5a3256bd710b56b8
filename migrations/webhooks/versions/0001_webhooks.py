"""Webhooks: subscriptions and their deliveries.

Revision ID: 0001_webhooks
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import UtcDateTime

revision: str = "0001_webhooks"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "webhooks"
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("previous_secret", sa.String(200), nullable=True),
        sa.Column("previous_secret_until", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscription"),
        schema=SCHEMA,
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("account_key", sa.String(320), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, comment="pending, delivered or dead"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_response_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_delivery"),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery_subscription_id_event_id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_webhook_delivery_line",
        "webhook_delivery",
        ["subscription_id", "account_key", "status", "id"],
        schema=SCHEMA,
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"], schema=SCHEMA)
    op.create_index("ix_webhook_delivery_log", "webhook_delivery", ["subscription_id", "id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_log", table_name="webhook_delivery", schema=SCHEMA)
    op.drop_index("ix_webhook_delivery_due", table_name="webhook_delivery", schema=SCHEMA)
    op.drop_index("ix_webhook_delivery_line", table_name="webhook_delivery", schema=SCHEMA)
    op.drop_table("webhook_delivery", schema=SCHEMA)
    op.drop_table("webhook_subscription", schema=SCHEMA)
