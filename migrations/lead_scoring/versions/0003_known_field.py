"""Custom field paths and touch types seen, for the warnings on definitions that read what was never seen.

Revision ID: 0003_known_field
Revises: 0002_mql_version
Create Date: 2026-12-02
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import database.types

revision: str = "0003_known_field"
down_revision: str | None = "0002_mql_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "lead_scoring"
ADDRESSABLE = r"^[A-Za-z_][A-Za-z0-9_]*$"
# The contact's own attributes as of this revision (conditions.NAMED_CONTACT_FIELDS): they shadow a custom field of
# their name, which is then read at contact.custom.<name>; every other custom field is read at contact.<name>.
NAMED = frozenset(
    {"first_name", "last_name", "title", "job_function", "seniority", "phone", "company", "industry", "employees"}
    | {"country", "city", "linkedin_url", "marketing_consent", "custom", "email", "email_domain", "buying_role"}
)


def readable_path(name: str) -> str | None:
    """The path a rule reads a custom field at (field_paths.custom_path as of this revision), None if it has none."""
    if not re.match(ADDRESSABLE, name):
        return None
    return f"contact.custom.{name}" if name in NAMED else f"contact.{name}"


def upgrade() -> None:
    known = op.create_table(
        "known_field",
        sa.Column("kind", sa.String(length=20), nullable=False, comment="path or touch_type"),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("first_seen_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "name", name=op.f("pk_known_field")),
        schema=SCHEMA,
    )
    # What was ingested before this table existed counts as seen.
    bind, now = op.get_bind(), datetime.now(UTC)
    schema = SCHEMA if bind.dialect.name == "postgresql" else None
    touch = sa.table("touch", sa.column("touch_type", sa.String()), schema=schema)
    contact = sa.table("contact", sa.column("attributes", sa.JSON()), schema=schema)
    rows = {("touch_type", kind) for kind in bind.execute(sa.select(touch.c.touch_type).distinct()).scalars()}
    for attributes in bind.execute(sa.select(contact.c.attributes)).scalars():
        if not isinstance(attributes, dict):
            continue
        custom = attributes.get("custom")
        # Contacts learned before custom fields were stored apart hold them at the top level, read there too.
        names = {*(custom if isinstance(custom, dict) else ()), *(name for name in attributes if name not in NAMED)}
        rows |= {("path", path) for name in names if (path := readable_path(name))}
    if rows:
        op.bulk_insert(known, [{"kind": kind, "name": name, "first_seen_at": now} for kind, name in sorted(rows)])


def downgrade() -> None:
    op.drop_table("known_field", schema=SCHEMA)
