"""accounts, contacts, touches, leads, lead definitions

Revision ID: 0001_lead_scoring
Revises:
Create Date: 2026-11-22 15:35:44.484414
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import database.types

revision: str = "0001_lead_scoring"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False, comment="The account key events are keyed by."),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("normalised_name", sa.String(length=300), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("domain", name=op.f("uq_account_domain")),
        sa.UniqueConstraint("external_id", name=op.f("uq_account_external_id")),
        sa.UniqueConstraint("key", name=op.f("uq_account_key")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("account", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_account_normalised_name"), ["normalised_name"], unique=False)

    op.create_table(
        "lead_definition",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False, comment="draft, published, superseded"),
        sa.Column(
            "revision",
            sa.Integer(),
            nullable=False,
            comment="Bumped by every edit; approvals name the revision they saw.",
        ),
        sa.Column("version", sa.Integer(), nullable=True, comment="Set when published."),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("based_on_version", sa.Integer(), nullable=True),
        sa.Column("marketing_approved_by", sa.String(length=200), nullable=True),
        sa.Column("marketing_approved_revision", sa.Integer(), nullable=True),
        sa.Column("marketing_approved_at", database.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("sales_approved_by", sa.String(length=200), nullable=True),
        sa.Column("sales_approved_revision", sa.Integer(), nullable=True),
        sa.Column("sales_approved_at", database.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("published_at", database.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_definition")),
        sa.UniqueConstraint("version", name=op.f("uq_lead_definition_version")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("lead_definition", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_definition_status"), ["status"], unique=False)

    op.create_table(
        "rescore_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False, comment="pending, running, done, failed"),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column(
            "cursor",
            sa.Uuid(),
            nullable=True,
            comment="The last scope rescored (account id, or contact id without one); a restart goes on after it.",
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", database.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rescore_job")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("rescore_job", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_rescore_job_definition_version"), ["definition_version"], unique=False)

    op.create_table(
        "sales_outcome",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False, comment="accepted, rejected, won, lost"),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_sales_outcome")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("sales_outcome", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_outcome_contact_id"), ["contact_id"], unique=False)

    op.create_table(
        "contact",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column(
            "account_rule", sa.String(length=30), nullable=False, comment="The matching rule that found the account."
        ),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("buying_role", sa.String(length=50), nullable=True),
        sa.Column("pain_points", sa.JSON(), nullable=False),
        sa.Column("consent", sa.String(length=20), nullable=False),
        sa.Column("erased_at", database.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("merged_into", sa.Uuid(), nullable=True),
        sa.Column("created_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["lead_scoring.account.id"], name=op.f("fk_contact_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
        sa.UniqueConstraint("email", name=op.f("uq_contact_email")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("contact", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_account_id"), ["account_id"], unique=False)

    op.create_table(
        "lead_definition_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("definition_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["lead_scoring.lead_definition.id"],
            name=op.f("fk_lead_definition_audit_definition_id_lead_definition"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_definition_audit")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("lead_definition_audit", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_definition_audit_definition_id"), ["definition_id"], unique=False)

    op.create_table(
        "contact_external_id",
        sa.Column("system", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["lead_scoring.contact.id"], name=op.f("fk_contact_external_id_contact_id_contact")
        ),
        sa.PrimaryKeyConstraint("system", "value", name=op.f("pk_contact_external_id")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("contact_external_id", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_external_id_contact_id"), ["contact_id"], unique=False)

    op.create_table(
        "lead",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("fit_score", sa.Double(), nullable=False),
        sa.Column("fit_grade", sa.String(length=1), nullable=False),
        sa.Column("engagement_score", sa.Double(), nullable=False),
        sa.Column("account_score", sa.Double(), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("qualification_cycle", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("scored_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("mql_at", database.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "cycle_started_at",
            database.types.UtcDateTime(timezone=True),
            nullable=True,
            comment="Hand-raises before it belong to a past cycle.",
        ),
        sa.Column(
            "recycled_until",
            database.types.UtcDateTime(timezone=True),
            nullable=True,
            comment="Sales' recycle policy: no requalifying before.",
        ),
        sa.ForeignKeyConstraint(["contact_id"], ["lead_scoring.contact.id"], name=op.f("fk_lead_contact_id_contact")),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_lead")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("lead", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_stage"), ["stage"], unique=False)

    op.create_table(
        "touch",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", database.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("touch_type", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("content_id", sa.String(length=200), nullable=True),
        sa.Column("content_tags", sa.JSON(), nullable=False),
        sa.Column("source_system", sa.String(length=50), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["lead_scoring.contact.id"], name=op.f("fk_touch_contact_id_contact")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touch")),
        schema="lead_scoring",
    )
    with op.batch_alter_table("touch", schema="lead_scoring") as batch_op:
        batch_op.create_index(batch_op.f("ix_touch_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_touch_contact_id_occurred_at", ["contact_id", "occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_touch_occurred_at"), ["occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("touch", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_touch_occurred_at"))
        batch_op.drop_index("ix_touch_contact_id_occurred_at")
        batch_op.drop_index(batch_op.f("ix_touch_account_id"))

    op.drop_table("touch", schema="lead_scoring")
    with op.batch_alter_table("lead", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_stage"))
        batch_op.drop_index(batch_op.f("ix_lead_account_id"))

    op.drop_table("lead", schema="lead_scoring")
    with op.batch_alter_table("contact_external_id", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_external_id_contact_id"))

    op.drop_table("contact_external_id", schema="lead_scoring")
    with op.batch_alter_table("lead_definition_audit", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_definition_audit_definition_id"))

    op.drop_table("lead_definition_audit", schema="lead_scoring")
    with op.batch_alter_table("contact", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_account_id"))

    op.drop_table("contact", schema="lead_scoring")
    with op.batch_alter_table("sales_outcome", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_outcome_contact_id"))

    op.drop_table("sales_outcome", schema="lead_scoring")
    with op.batch_alter_table("rescore_job", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_rescore_job_definition_version"))

    op.drop_table("rescore_job", schema="lead_scoring")
    with op.batch_alter_table("lead_definition", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_definition_status"))

    op.drop_table("lead_definition", schema="lead_scoring")
    with op.batch_alter_table("account", schema="lead_scoring") as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_normalised_name"))

    op.drop_table("account", schema="lead_scoring")
