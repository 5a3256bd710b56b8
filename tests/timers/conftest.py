"""The `engine` fixture: every timer test runs on SQLite and on real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.clock import Clock
from tests.timers.support import prepare


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A fresh, migrated database of each kind in turn, with the effect table."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    prepare(engine)
    return engine


@pytest.fixture
def clock() -> Clock:
    """A clock at T0 that the test moves."""
    return Clock()
