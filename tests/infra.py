"""Where the tests' real PostgreSQL and Kafka come from: the environment, or testcontainers where Docker runs."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

import pytest

HOW_TO = (
    "Run the tests with `make test` (scripts/test-services provisions PostgreSQL and Kafka without Docker), "
    "or set {var} to a running server."
)


def _docker_engine_answers() -> bool:
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL: LEADFLOW_TEST_DATABASE_URL, else a testcontainer, else fail saying how."""
    url = os.environ.get("LEADFLOW_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if not _docker_engine_answers():
        pytest.fail(HOW_TO.format(var="LEADFLOW_TEST_DATABASE_URL"), pytrace=False)
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16", driver="psycopg") as container:
        yield container.get_connection_url()


@contextlib.contextmanager
def kafka_bootstrap() -> Iterator[str]:
    """A Kafka bootstrap address: LEADFLOW_TEST_KAFKA_BOOTSTRAP, else a testcontainer, else fail saying how."""
    bootstrap = os.environ.get("LEADFLOW_TEST_KAFKA_BOOTSTRAP")
    if bootstrap:
        yield bootstrap
        return
    if not _docker_engine_answers():
        pytest.fail(HOW_TO.format(var="LEADFLOW_TEST_KAFKA_BOOTSTRAP"), pytrace=False)
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer().with_kraft() as container:
        yield container.get_bootstrap_server()
