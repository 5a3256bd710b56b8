"""Saved routing versions and the audit, read back through current_org (the interface handoff routes with)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, text

from eventlog.backends import SqlEventLog
from services.handoff.org import handlers, repository
from services.handoff.org.document import parse_document, rep_id
from services.handoff.org.models import RoutingOrgVersion
from tests.clock import T0
from tests.handoff.org.documents import small


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database of each kind."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


def save(engine: Engine, raw: dict[str, Any], expected: int | None = None) -> handlers.Saved:
    with SqlEventLog(engine).unit_of_work() as uow:
        return handlers.save_document(
            uow, parse_document(raw), actor="ops@acme.example", role="sales_ops", now=T0, expected_version=expected
        )


def test_no_configuration_saved_reads_as_none(engine: Engine) -> None:
    with SqlEventLog(engine).unit_of_work() as uow:
        assert repository.current_org(uow.session) is None


def test_saved_document_is_the_current_org_with_rep_profiles(engine: Engine) -> None:
    saved = save(engine, small())

    with SqlEventLog(engine).unit_of_work() as uow:
        current = repository.current_org(uow.session)
    assert current is not None
    assert current.version == saved.version == 1
    ana = current.rep_by_email("Ana@ACME.example")
    assert ana is not None
    assert (ana.id, ana.name, ana.team, ana.role) == (rep_id("ana@acme.example"), "Ana", "emea", "rep")
    assert ana.manager_id == rep_id("mia@acme.example")
    assert current.reps[rep_id("mia@acme.example")].manager_id is None  # the manager of their own team
    assert current.owner_of_domain("bmw.de") == ana.id
    assert [rep.rep_id for rep in current.org.pool("emea")] == [ana.id, rep_id("ben@acme.example")]
    assert current.org.by_id[rep_id("ben@acme.example")].weight == 2
    assert [rule.name for rule in current.org.rules] == ["Strategic accounts", "EMEA", "Everyone else"]


def test_each_change_is_a_new_version_with_an_audit_entry_saying_what_changed(engine: Engine) -> None:
    save(engine, small())
    document = small()
    document["reps"][2]["weight"] = 3
    document["rules"].append({"name": "Unrouted", "target": {"kind": "unrouted"}})

    saved = save(engine, document, expected=1)

    assert saved.version == 2
    assert saved.changes == ["rep ben@acme.example weight 2.0 -> 3.0", "rule 4 (Unrouted) added"]
    with SqlEventLog(engine).unit_of_work() as uow:
        current = repository.current_org(uow.session)
        entries = [
            (entry.version, entry.actor, entry.action, entry.changes)
            for entry in repository.audit_entries(uow.session, before=None, limit=10)
        ]
    assert current is not None
    assert current.version == 2
    assert current.org.by_id[rep_id("ben@acme.example")].weight == 3
    assert entries == [
        (2, "ops@acme.example", "replace", saved.changes),
        (1, "ops@acme.example", "replace", ["initial configuration: 2 teams, 5 reps, 3 rules, 2 calendars"]),
    ]


def test_saving_the_same_document_again_saves_nothing(engine: Engine) -> None:
    save(engine, small())

    saved = save(engine, small())

    assert (saved.version, saved.changed) == (1, False)


def test_a_save_against_an_older_version_is_refused(engine: Engine) -> None:
    save(engine, small())
    save(engine, small(rules=[{"name": "All", "target": {"kind": "unrouted"}}]), expected=1)

    with pytest.raises(handlers.StaleVersion, match="you edited version 1, but version 2 is in force"):
        save(engine, small(), expected=1)


def test_two_concurrent_saves_of_the_same_next_version_one_wins_the_other_is_stale(postgres_engine: Engine) -> None:
    save(postgres_engine, small())
    first = SqlEventLog(postgres_engine).unit_of_work()
    with first:
        # The first save holds version 2, not yet committed: the second reads version 1 as in force.
        document = parse_document(small(rules=[{"name": "All", "target": {"kind": "unrouted"}}]))
        first.session.add(
            RoutingOrgVersion(
                version=2,
                document=document.dump(),
                digest=handlers.digest(document),
                saved_by="first",
                saved_at=T0,
                summary="rule 4 (All) added",
            )
        )
        first.session.flush()
        outcome: list[BaseException | handlers.Saved] = []
        second = threading.Thread(target=lambda: outcome.append(_attempt(postgres_engine)))
        second.start()
        _wait_until_a_lock_is_waited_for(postgres_engine)  # the second's insert of version 2 waits on the first's
        first.commit()
    second.join(timeout=30)

    assert len(outcome) == 1
    assert isinstance(outcome[0], handlers.StaleVersion)
    with SqlEventLog(postgres_engine).unit_of_work() as uow:
        current = repository.current_org(uow.session)
    assert current is not None
    assert (current.version, [rule.name for rule in current.org.rules]) == (2, ["All"])


def _wait_until_a_lock_is_waited_for(engine: Engine) -> None:
    deadline = time.monotonic() + 30
    with engine.connect() as connection:
        while not connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
            assert time.monotonic() < deadline, "the second save never waited for the first"
            time.sleep(0.05)


def _attempt(engine: Engine) -> BaseException | handlers.Saved:
    try:
        return save(engine, small(teams=[*small()["teams"], {"name": "apac"}]))
    except handlers.StaleVersion as error:
        return error
