"""Alembic environment: the shared runner in database.migrate does the work."""

from alembic import context

from database.migrate import run_migrations

run_migrations(context)
