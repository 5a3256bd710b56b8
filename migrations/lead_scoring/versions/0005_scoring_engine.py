"""The scoring engine's state: per lead its running engagement, per account its standing.

Revision ID: 0005_scoring_engine
Revises: 0004_rescore_mql_cases
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_scoring_engine"
down_revision: str | None = "0004_rescore_mql_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "lead_scoring"


def _schema() -> str | None:
    # Batch mode recreates SQLite tables with raw statements the schema translation does not reach.
    return SCHEMA if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    # Leads stored before have no state: the engine rebuilds it from their touches when it next meets them.
    op.add_column(
        "lead",
        sa.Column("engine", sa.JSON(), nullable=True, comment="Running engagement, roll-up eligibility, role."),
        schema=_schema(),
    )
    op.add_column(
        "account",
        sa.Column("standing", sa.Boolean(), nullable=True, comment="Met the account's MQL criteria when last seen."),
        schema=_schema(),
    )
    op.add_column(
        "account",
        sa.Column("standing_version", sa.Integer(), nullable=True, comment="The definition version of `standing`."),
        schema=_schema(),
    )


def downgrade() -> None:
    with op.batch_alter_table("account", schema=_schema()) as batch:
        batch.drop_column("standing_version")
        batch.drop_column("standing")
    with op.batch_alter_table("lead", schema=_schema()) as batch:
        batch.drop_column("engine")
