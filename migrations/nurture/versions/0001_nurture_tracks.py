"""Nurture: track versions and the nurture settings.

Revision ID: 0001_nurture_tracks
Revises:
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import UtcDateTime

revision: str = "0001_nurture_tracks"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "nurture"


def upgrade() -> None:
    op.create_table(
        "nurture_track_version",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, comment="draft, active, paused or retired"),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("status_by", sa.String(200), nullable=False),
        sa.Column("status_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", "version", name="pk_nurture_track_version"),
        schema=SCHEMA,
    )
    op.create_index("ix_nurture_track_version_status", "nurture_track_version", ["status", "key"], schema=SCHEMA)
    op.create_table(
        "nurture_settings_version",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_nurture_settings_version"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("nurture_settings_version", schema=SCHEMA)
    op.drop_index("ix_nurture_track_version_status", table_name="nurture_track_version", schema=SCHEMA)
    op.drop_table("nurture_track_version", schema=SCHEMA)
