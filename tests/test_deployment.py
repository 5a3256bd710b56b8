"""The deployment files: docker-compose names every service, settings and migrations behave."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, inspect

from database import migrate
from database.base import SCHEMAS
from kernel.settings import Settings
from leadflow.app import SERVICES

ROOT = Path(__file__).resolve().parent.parent


def test_docker_compose_parses_and_runs_every_service_and_the_relay() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    commands = {name: service.get("command", []) for name, service in services.items()}

    assert {"postgres", "kafka", "relay", "migrate", *SERVICES} <= set(services)
    for name in SERVICES:
        assert commands[name] == ["leadflow", "run", name]
    assert commands["relay"] == ["leadflow", "relay"]
    assert commands["scheduler"] == ["leadflow", "run", "scheduler"]
    assert commands["webhooks"] == ["leadflow", "run", "webhooks"]
    assert services["webhooks"]["environment"]["LEADFLOW_ENVIRONMENT"] == "production"  # URLs checked against SSRF
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValueError, match="LEADFLOW_SECRET_KEY"):
        Settings(environment="production")


@pytest.mark.parametrize("engine_fixture", ["sqlite_engine", "postgres_engine"])
def test_migrations_go_down_to_nothing_and_up_again(engine_fixture: str, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue(engine_fixture)
    heads = migrate.current(engine)

    migrate.downgrade(engine)
    assert set(migrate.current(engine).values()) == {None}
    assert _tables(engine) <= {f"alembic_version_{owner}" for owner in SCHEMAS}

    migrate.upgrade(engine)
    assert migrate.current(engine) == heads
    assert {"outbox", "inbox", "consumer_offset", "dead_letter"} <= _tables(engine)


def _tables(engine: Engine) -> set[str]:
    inspector = inspect(engine)
    if engine.dialect.name == "sqlite":
        return set(inspector.get_table_names())
    return {table for schema in SCHEMAS for table in inspector.get_table_names(schema=schema)}


def test_table_names_are_unique_across_owners_because_sqlite_has_one_namespace() -> None:
    names = [
        table.name
        for owner in SCHEMAS
        if (metadata := migrate.target_metadata(owner)) is not None
        for table in metadata.tables.values()
    ]
    assert len(names) == len(set(names)), sorted(names)


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        f"LEADFLOW_{name.upper()}" for name in Settings.model_fields if f"`LEADFLOW_{name.upper()}`" not in readme
    ]
    assert not missing, f"add to the README's configuration table: {missing}"
