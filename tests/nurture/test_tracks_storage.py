"""Track versions on SQLite and on real PostgreSQL: versions, statuses, and what the flow reads."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from eventlog.unit_of_work import UnitOfWork
from services.nurture.tracks import handlers, repository
from tests.clock import T0
from tests.nurture.builders import settings_doc, track_doc
from tests.timers.support import uow_for

ENGINES = ["sqlite_engine", "postgres_engine"]
BY = "marketing-ops-test"


@pytest.fixture(params=ENGINES)
def uow(request: pytest.FixtureRequest) -> UnitOfWork:
    engine: Engine = request.getfixturevalue(request.param)
    unit = uow_for(engine)
    with unit:
        handlers.put_settings(unit, settings_doc(), by=BY, now=T0)
    return unit


def test_an_enrollment_keeps_its_version_while_the_track_moves_on(uow: UnitOfWork) -> None:
    with uow:
        handlers.create_track(uow, track_doc(), by=BY, now=T0)
        handlers.activate(uow, "awareness", None, by=BY, now=T0)
        shorter = track_doc()
        shorter["steps"] = shorter["steps"][:1]
        second = handlers.edit_track(uow, "awareness", shorter, by=BY, now=T0)
        handlers.activate(uow, "awareness", second.version, by=BY, now=T0)

    with uow:
        active = repository.active_tracks(uow.session)
        first = repository.compiled_version(uow.session, "awareness", 1)
        statuses = [(row.version, row.status) for row in repository.versions(uow.session, "awareness")]

    assert [(track.key, track.version, len(track.steps)) for track in active] == [("awareness", 2, 1)]
    assert first is not None
    assert len(first.steps) == 4
    assert statuses == [(1, "retired"), (2, "active")]


def test_paused_and_draft_tracks_take_no_new_leads(uow: UnitOfWork) -> None:
    with uow:
        handlers.create_track(uow, track_doc("consideration"), by=BY, now=T0)
        handlers.create_track(uow, track_doc("awareness"), by=BY, now=T0)
        handlers.activate(uow, "awareness", None, by=BY, now=T0)
        handlers.create_track(uow, track_doc("not-now"), by=BY, now=T0)
        handlers.activate(uow, "not-now", None, by=BY, now=T0)
        handlers.pause(uow, "not-now", by=BY, now=T0)

    with uow:
        assert [track.key for track in repository.active_tracks(uow.session)] == ["awareness"]
        latest = [(row.key, row.status) for row in repository.latest_versions(uow.session)]
    assert latest == [("awareness", "active"), ("consideration", "draft"), ("not-now", "paused")]


def test_activating_a_retired_version_rolls_back_to_it(uow: UnitOfWork) -> None:
    with uow:
        handlers.create_track(uow, track_doc(), by=BY, now=T0)
        handlers.activate(uow, "awareness", None, by=BY, now=T0)
        handlers.edit_track(uow, "awareness", track_doc(priority=1), by=BY, now=T0)
        handlers.activate(uow, "awareness", None, by=BY, now=T0)
        handlers.activate(uow, "awareness", 1, by=BY, now=T0)
        same = handlers.edit_track(uow, "awareness", track_doc(priority=1), by=BY, now=T0)
        returned = (same.version, same.status)
        statuses = [(row.version, row.status) for row in repository.versions(uow.session, "awareness")]

    assert statuses == [(1, "active"), (2, "retired")]
    assert returned == (2, "retired")  # loading v2's document again: activate v2 to roll forward
