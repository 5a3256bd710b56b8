"""Alembic migrations, one history per owner of tables (migrations/<owner>/), run in order."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, text

from database.base import SCHEMAS
from database.engine import is_postgresql

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Where each owner's tables are declared (for autogenerate); imported only when Alembic asks.
METADATA = {
    "eventlog": "eventlog.models",
    "timers": "timers.models",
    "lead_scoring": "services.lead_scoring.models",
    "nurture": "services.nurture.models",
    "handoff": "services.handoff.models",
    "webhooks": "services.webhooks.models",
}


def _config(owner: str, connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / owner))
    config.attributes["connection"] = connection
    config.attributes["owner"] = owner
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring every owner's tables to `revision` (default: the newest)."""
    for owner in SCHEMAS:
        with engine.begin() as connection:
            if is_postgresql(engine):
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{owner}"'))
            command.upgrade(_config(owner, connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take every owner's tables back to `revision` (default: nothing), newest owner first."""
    for owner in reversed(SCHEMAS):
        with engine.begin() as connection:
            command.downgrade(_config(owner, connection), revision)


def current(engine: Engine) -> dict[str, str | None]:
    """The revision each owner's tables are at."""
    from alembic.runtime.migration import MigrationContext

    revisions = {}
    with engine.connect() as connection:
        for owner in SCHEMAS:
            context = MigrationContext.configure(
                connection, opts=_version_table_options(owner, connection.dialect.name)
            )
            revisions[owner] = context.get_current_revision()
    return revisions


def _version_table_options(owner: str, dialect: str) -> dict[str, Any]:
    # One version table per owner. On SQLite all owners share one namespace, so the name carries the owner,
    # and Alembic's inspector does not see through the schema translation: no schema there.
    schema = owner if dialect == "postgresql" else None
    return {"version_table": f"alembic_version_{owner}", "version_table_schema": schema}


def target_metadata(owner: str) -> MetaData | None:
    """The MetaData of `owner`'s models, or None while it has none."""
    try:
        module = importlib.import_module(METADATA[owner])
    except ModuleNotFoundError:
        return None
    metadata: MetaData = module.Base.metadata
    return metadata


def run_migrations(context: Any) -> None:
    """The body of every migrations/<owner>/env.py."""
    owner = context.config.attributes["owner"]
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata(owner),
        include_schemas=True,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite shows every owner's tables in one namespace: autogenerate must only see this owner's.
        include_object=lambda obj, name, type_, reflected, compare_to: (
            type_ != "table" or compare_to is not None or not reflected
        ),
        **_version_table_options(owner, connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()
