"""The version a lead qualified under, so the lead and its explanation say the same while sales works it.

Revision ID: 0002_mql_version
Revises: 0001_lead_scoring
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_mql_version"
down_revision: str | None = "0001_lead_scoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "lead_scoring"
COMMENT = "The definition version in force when the lead last qualified."


def _schema() -> str | None:
    # Batch mode recreates SQLite tables with raw statements the schema translation does not reach.
    return SCHEMA if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    op.add_column("lead", sa.Column("mql_version", sa.Integer(), nullable=True, comment=COMMENT), schema=_schema())
    # The best that is known of an MQL stored before: the version that scored it last.
    lead = sa.table("lead", sa.column("stage"), sa.column("definition_version"), sa.column("mql_version"))
    lead.schema = _schema()
    op.execute(lead.update().where(lead.c.stage == "mql").values(mql_version=lead.c.definition_version))


def downgrade() -> None:
    with op.batch_alter_table("lead", schema=_schema()) as batch:
        batch.drop_column("mql_version")
