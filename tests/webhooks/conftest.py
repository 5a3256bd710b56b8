"""Fixtures of the webhook tests: a database of each kind, and a clock the test moves."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.webhooks.support import Clock


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A fresh, migrated database of each kind in turn."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.fixture
def clock() -> Clock:
    """A clock at T0 that the test moves."""
    return Clock()
