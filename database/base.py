"""Declarative bases: one PostgreSQL schema per owner, one naming convention for constraints."""

from __future__ import annotations

from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Each owner of tables has a schema on PostgreSQL. SQLite has no schemas: there all tables share one file,
# so table names are unique across owners (checked by a test) and the schema names are translated away.
SCHEMAS = ("eventlog", "timers", "lead_scoring", "nurture", "handoff", "webhooks")


def schema_metadata(schema: str) -> MetaData:
    """The MetaData of the tables that `schema`'s owner keeps."""
    if schema not in SCHEMAS:
        raise ValueError(f"unknown schema {schema!r}; add it to database.base.SCHEMAS")
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
