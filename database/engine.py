"""Engines and sessions for PostgreSQL and the embedded SQLite file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from database.base import SCHEMAS


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and write transactions that queue instead of fail."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **options)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **options)


def _sqlite_engine(url: str, **options: Any) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        execution_options={"schema_translate_map": dict.fromkeys(SCHEMAS)},
        **options,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite, so that BEGIN IMMEDIATE below is ours to send.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that later writes can fail with SQLITE_BUSY without waiting; an immediate
        # one waits its turn, so concurrent writers in one process queue up instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def is_postgresql(engine: Engine) -> bool:
    """Whether `engine` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"
