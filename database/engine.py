"""Engines and sessions for PostgreSQL and the embedded SQLite file."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from database.base import SCHEMAS

SQLITE_BUSY_TIMEOUT_S = 30
"""How long SQLite waits for a writer of another process (the CLI beside a running server)."""
WRITE_QUEUE_TIMEOUT_S = 120
"""How long a transaction waits for its turn behind the writers of its own process before giving up."""


class DatabaseBusy(TimeoutError):  # noqa: N818 - reads as what it is
    """A transaction waited longer than its turn allows: the database is overloaded, retry later."""


class WriteQueue:
    """One transaction at a time on an SQLite file in this process, served in the order they asked.

    SQLite takes one writer at a time; left to its busy handler, waiting writers poll and sleep, the unlucky ones
    starve and fail with `database is locked`. Queued here instead, each waits its turn and then finds the file free.
    """

    def __init__(self, timeout_s: float = WRITE_QUEUE_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s
        self._mutex = threading.Lock()
        self._holder: object | None = None
        self._waiting: deque[tuple[object, threading.Event]] = deque()

    def acquire(self, owner: object) -> None:
        """Wait for `owner`'s turn; `DatabaseBusy` after the timeout."""
        with self._mutex:
            if self._holder is None:
                self._holder = owner
                return
            entry = (owner, threading.Event())
            self._waiting.append(entry)
        if entry[1].wait(self._timeout_s):
            return
        with self._mutex:
            if self._holder is owner:  # handed over just as the wait ran out
                return
            self._waiting.remove(entry)
        raise DatabaseBusy(f"waited {self._timeout_s:g} s for the SQLite database behind other writers")

    def release(self, owner: object) -> None:
        """End `owner`'s turn (nothing if it has none) and hand it to the next in line."""
        with self._mutex:
            if self._holder is not owner:
                return
            if self._waiting:
                self._holder, turn = self._waiting.popleft()
                turn.set()
            else:
                self._holder = None


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and write transactions that queue instead of fail."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **options)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **options)


def _sqlite_engine(url: str, **options: Any) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        execution_options={"schema_translate_map": dict.fromkeys(SCHEMAS)},
        **options,
    )
    queue = WriteQueue()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite, so that BEGIN IMMEDIATE below is ours to send.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that later writes can fail with SQLITE_BUSY without waiting; an immediate
        # one takes the write lock at once. Writers of this process first queue for their turn.
        owner = _dbapi(connection)
        queue.acquire(owner)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            queue.release(owner)
            raise

    # SQLAlchemy announces commit and rollback before it sends them; they are sent here so that the turn passes
    # only once the file is free (pysqlite's own commit and rollback then find no transaction and do nothing).
    @event.listens_for(engine, "commit")
    def _on_commit(connection: Connection) -> None:
        owner = _dbapi(connection)
        owner.commit()
        queue.release(owner)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Connection) -> None:
        owner = _dbapi(connection)
        if owner is None:  # invalidated: the pool's invalidate event ends the turn
            return
        try:
            owner.rollback()
        finally:
            queue.release(owner)

    # A connection that leaves without its transaction ending (invalidated, or returned to the pool) ends its turn.
    @event.listens_for(engine.pool, "invalidate")
    @event.listens_for(engine.pool, "checkin")
    def _on_gone(dbapi_connection: Any, *_: Any) -> None:
        queue.release(dbapi_connection)

    return engine


def _dbapi(connection: Connection) -> Any:
    """The driver's connection under `connection`, or None if it is gone."""
    try:
        return connection.connection.dbapi_connection
    except SQLAlchemyError:
        return None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def is_postgresql(engine: Engine) -> bool:
    """Whether `engine` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"
