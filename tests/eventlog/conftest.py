"""The `backend` fixture: every contract test runs on Kafka (with PostgreSQL), SQL on PostgreSQL and SQL on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.eventlog.harness import Harness, make_harness

BACKENDS = ["kafka", "sql-postgresql", "sql-sqlite"]


def _harness(request: pytest.FixtureRequest, name: str) -> Iterator[Harness]:
    if name == "sql-sqlite":
        engine = request.getfixturevalue("sqlite_engine")
        bootstrap = None
    else:
        engine = request.getfixturevalue("postgres_engine")
        bootstrap = request.getfixturevalue("kafka_bootstrap") if name == "kafka" else None
    harness = make_harness(name, engine, engine.url.render_as_string(hide_password=False), bootstrap)
    yield harness
    harness.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """A fresh harness of each event-log backend in turn."""
    yield from _harness(request, request.param)


@pytest.fixture(params=["kafka", "sql-postgresql"])
def postgres_backend(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """A fresh harness of each backend that runs on PostgreSQL (for faults injected with PostgreSQL's tools)."""
    yield from _harness(request, request.param)


@pytest.fixture
def kafka_backend(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """A fresh harness of the Kafka backend (for the relay, which only it has)."""
    yield from _harness(request, "kafka")
