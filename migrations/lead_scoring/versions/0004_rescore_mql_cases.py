"""What each rescore did to open MQLs: still qualified, kept (accepted, or by policy), returned to engaged.

Revision ID: 0004_rescore_mql_cases
Revises: 0003_known_field
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_rescore_mql_cases"
down_revision: str | None = "0003_known_field"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "lead_scoring"
COLUMNS = {
    "mqls_still_qualified": "Open MQLs the new version qualifies too.",
    "mqls_kept_accepted": "Open MQLs it no longer qualifies, kept: a handoff accepted them.",
    "mqls_kept_by_policy": "Open MQLs it no longer qualifies, kept: republication.open_mqls keep.",
    "mqls_returned_to_engaged": "Open MQLs it no longer qualifies, returned to engaged.",
}


def _schema() -> str | None:
    # Batch mode recreates SQLite tables with raw statements the schema translation does not reach.
    return SCHEMA if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    for name, comment in COLUMNS.items():
        column = sa.Column(name, sa.Integer(), nullable=False, server_default="0", comment=comment)
        op.add_column("rescore_job", column, schema=_schema())


def downgrade() -> None:
    with op.batch_alter_table("rescore_job", schema=_schema()) as batch:
        for name in COLUMNS:
            batch.drop_column(name)
