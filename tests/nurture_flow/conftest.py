"""Fixtures of the nurture-flow tests: a migrated database of each kind."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A fresh, migrated database of each kind in turn."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine
