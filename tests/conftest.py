"""Fixtures shared by every test: real PostgreSQL and Kafka, fresh databases, migrated schemas."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from database import migrate
from database.engine import make_engine
from tests import infra

TEMPLATE = "leadflow_template"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of the test PostgreSQL server, with a migrated template database to copy from."""
    with infra.postgres_url() as url:
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {TEMPLATE}"))
        template = make_engine(make_url(url).set(database=TEMPLATE).render_as_string(hide_password=False))
        migrate.upgrade(template)
        template.dispose()
        admin.dispose()
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The bootstrap address of the test Kafka broker."""
    with infra.kafka_bootstrap() as bootstrap:
        yield bootstrap


def fresh_postgres_database(server_url: str) -> tuple[str, Engine]:
    """A new, migrated database copied from the template; returns its URL and an admin engine to drop it."""
    name = f"leadflow_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), admin


@pytest.fixture
def postgres_engine(postgres_server: str) -> Iterator[Engine]:
    """An engine on a fresh, migrated PostgreSQL database, dropped afterwards."""
    url, admin = fresh_postgres_database(postgres_server)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh, migrated SQLite file."""
    engine = make_engine(f"sqlite:///{tmp_path / 'leadflow.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which real servers the run uses."""
    import os

    return [
        f"PostgreSQL: {os.environ.get('LEADFLOW_TEST_DATABASE_URL', '(not configured)')}",
        f"Kafka: {os.environ.get('LEADFLOW_TEST_KAFKA_BOOTSTRAP', '(not configured)')}",
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the servers they need, so `-m "not kafka"` and the like select them."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        param = getattr(getattr(item, "callspec", None), "id", "")
        if "kafka" in param or fixtures & {"kafka_bootstrap", "kafka_backend"}:
            item.add_marker(pytest.mark.kafka)
        postgres_fixtures = {"postgres_server", "postgres_engine", "postgres_backend", "kafka_backend"}
        if "postgres" in param or "kafka" in param or fixtures & postgres_fixtures:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def local_api(tmp_path: Path) -> Iterator[ApiClient]:
    """leadflow as `leadflow up` runs it (SQLite, SQL event log, every service), behind a test client."""
    from fastapi.testclient import TestClient

    from kernel.settings import Settings
    from leadflow.app import create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'up.db'}", secret_key="test-secret")
    migrate.upgrade(make_engine(settings.database_url))
    with TestClient(create_app(settings)) as client:
        yield ApiClient(client, settings.secret_key.get_secret_value())


class ApiClient:
    """A test client that signs in as a given role."""

    def __init__(self, client: Any, secret: str) -> None:
        self.client = client
        self._secret = secret

    def as_(self, role: str, subject: str | None = None) -> dict[str, str]:
        """Authorization headers for `role`."""
        from auth.tokens import issue_token

        return {"Authorization": f"Bearer {issue_token(self._secret, subject or f'test-{role}', role)}"}

    def call(self, method: str, path: str, role: str, **kwargs: Any) -> Any:
        """Call the API as `role`."""
        return self.client.request(method, path, headers=self.as_(role), **kwargs)
