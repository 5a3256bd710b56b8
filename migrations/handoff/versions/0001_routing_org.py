"""Handoff: the sales org's saved routing configurations and their audit.

Revision ID: 0001_routing_org
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import UtcDateTime

revision: str = "0001_routing_org"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "handoff"
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "routing_org_version",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("saved_by", sa.String(200), nullable=False),
        sa.Column("saved_at", UtcDateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False, comment="what changed from the previous version, in one line"),
        sa.PrimaryKeyConstraint("version", name="pk_routing_org_version"),
        schema=SCHEMA,
    )
    op.create_table(
        "routing_org_audit",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer(), nullable=False, comment="the version the change saved"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False, comment="replace (a whole document) or rep.update"),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routing_org_audit"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("routing_org_audit", schema=SCHEMA)
    op.drop_table("routing_org_version", schema=SCHEMA)
