"""Saved routing versions and the audit, read back through current_org (the interface handoff routes with)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from eventlog.backends import SqlEventLog
from services.handoff.org import handlers, repository
from services.handoff.org.document import parse_document, rep_id
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
