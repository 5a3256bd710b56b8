"""The `backend` fixture: every contract test runs on Kafka (with PostgreSQL), SQL on PostgreSQL and SQL on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.eventlog.harness import Harness, make_harness

BACKENDS = ["kafka", "sql-postgresql", "sql-sqlite"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """A fresh harness of each event-log backend in turn."""
    name = request.param
    if name == "sql-sqlite":
        engine = request.getfixturevalue("sqlite_engine")
        bootstrap = None
    else:
        engine = request.getfixturevalue("postgres_engine")
        bootstrap = request.getfixturevalue("kafka_bootstrap") if name == "kafka" else None
    harness = make_harness(name, engine, engine.url.render_as_string(hide_password=False), bootstrap)
    yield harness
    harness.close()
