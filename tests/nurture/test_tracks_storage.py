"""Track versions on SQLite and on real PostgreSQL: versions, statuses, and what the flow reads."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, insert, text

from eventlog.unit_of_work import UnitOfWork
from services.nurture.tracks import handlers, repository
from services.nurture.tracks.models import TrackVersion
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


def test_two_requests_creating_one_track_at_once_make_one_track_and_a_conflict(postgres_engine: Engine) -> None:
    with uow_for(postgres_engine) as setup:
        handlers.put_settings(setup, settings_doc(), by=BY, now=T0)
    first = postgres_engine.connect()
    first_request = first.begin()  # it has inserted v1 and not committed when the second request looks
    who = {"created_by": BY, "created_at": T0, "status_by": BY, "status_at": T0}
    first.execute(insert(TrackVersion).values(key="awareness", version=1, status="draft", document=track_doc(), **who))
    outcome: list[str] = []

    def second_request() -> None:
        try:
            with uow_for(postgres_engine) as uow:
                handlers.create_track(uow, track_doc(), by=BY, now=T0)
                outcome.append("created")
        except handlers.TrackConflict as conflict:
            outcome.append(str(conflict))

    thread = threading.Thread(target=second_request)
    thread.start()
    _until_waiting_on_a_lock(postgres_engine, thread)
    first_request.commit()
    first.close()
    thread.join(timeout=30)

    assert outcome == ["track `awareness` exists: PUT /v1/nurture/tracks/awareness makes a new version"]
    with uow_for(postgres_engine) as uow:
        assert [row.version for row in repository.versions(uow.session, "awareness")] == [1]


def _until_waiting_on_a_lock(engine: Engine, thread: threading.Thread) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    deadline = time.monotonic() + 30
    with engine.connect() as connection:
        while thread.is_alive() and not connection.execute(waiting).scalar_one():
            if time.monotonic() > deadline:
                raise AssertionError("the second request never reached the insert of version 1")
            time.sleep(0.02)
