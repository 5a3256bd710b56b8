"""The reps' API under `leadflow up` settings (SQLite, SQL event log), with the small sales org saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from database import migrate
from database.engine import make_engine
from events.envelope import utc_now
from tests.conftest import ApiClient
from tests.handoff.support import consume, handoffs, published, qualified, save_org


class SalesApi(ApiClient):
    """The API client, the app's database, and a shortcut to call as a named person."""

    def __init__(self, client: Any, secret: str, engine: Engine) -> None:
        super().__init__(client, secret)
        self.engine = engine

    def by(self, method: str, path: str, role: str, subject: str, **kwargs: Any) -> Any:
        """Call the API as `subject` (an email) in `role`."""
        headers = {**self.as_(role, subject), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
def sales_api(tmp_path: Path) -> Iterator[SalesApi]:
    """leadflow up with the small org saved, definition 1 known, and lead 1 just handed off to a rep of emea."""
    from fastapi.testclient import TestClient

    from kernel.settings import Settings
    from leadflow.app import create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'up.db'}", secret_key="test-secret")
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    save_org(engine)
    consume(engine, published(), qualified(1, at=utc_now()))  # now: the SLA clock runs on the wall clock here
    assert handoffs(engine)[0].status == "assigned"
    with TestClient(create_app(settings, run_scheduler=False)) as client:
        yield SalesApi(client, settings.secret_key.get_secret_value(), engine)
    engine.dispose()
