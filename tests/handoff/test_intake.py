"""The handoff consumer on SQLite: lead.qualified becomes a routed handoff with a dossier, once per lead."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from eventlog.backends import SqlEventLog
from events.catalog.leads import CommitteeMember
from services.handoff.models import HandoffRecord, RoutingDecisionRecord
from tests.clock import T0
from tests.handoff.support import (
    ANA,
    BEN,
    consume,
    contact_id,
    emitted,
    handoffs,
    published,
    qualified,
    save_org,
)


def test_a_qualified_lead_becomes_a_handoff_routed_to_a_pool_rep_with_its_dossier(sqlite_engine: Engine) -> None:
    save_org(sqlite_engine)
    committee = [
        CommitteeMember(
            contact_id=contact_id(9), email="cfo@acme.example", buying_role="economic_buyer", stage="engaged",
            engagement_score=20,
        )
    ]  # fmt: skip
    consume(sqlite_engine, published(), qualified(1, committee=committee))

    [handoff] = handoffs(sqlite_engine)
    assert handoff.status == "assigned"
    assert handoff.rep_id in {ANA, BEN}
    # Monday 10:00 Berlin + 8 business hours (09:00-17:00): Tuesday 10:00 Berlin, 09:00Z.
    assert handoff.due_at == T0 + timedelta(days=1)
    assert handoff.warn_at is not None
    assert T0 < handoff.warn_at < handoff.due_at
    committee_seen = handoff.dossier["buying_committee"]
    assert committee_seen["missing_roles"] == ["decision_maker"]
    assert handoff.dossier["account"]["employee_band"] == "200-999"
    assert "met the MQL criteria" in handoff.dossier["why_now"]["summary"]
    types = [event.type for event in emitted(sqlite_engine)]
    assert types == ["leadflow.handoff.created.v1", "leadflow.handoff.assigned.v1"]
    assigned = emitted(sqlite_engine, "handoff.assigned")[0].data
    assert assigned.rep_id == handoff.rep_id
    assert assigned.routing_rule == "round_robin:emea"
    with SqlEventLog(sqlite_engine).unit_of_work() as uow:
        decision = uow.session.scalars(select(RoutingDecisionRecord)).one()
        assert decision.decision["method"] == "round_robin"
        assert {c["email"] for c in decision.decision["candidates"]} == {"ana@acme.example", "ben@acme.example"}


def test_a_requalification_while_open_refreshes_the_dossier_and_makes_no_second_handoff(sqlite_engine: Engine) -> None:
    save_org(sqlite_engine)
    consume(sqlite_engine, qualified(1))
    consume(sqlite_engine, qualified(1, at=T0 + timedelta(hours=1), grade="A", cycle=2))

    [handoff] = handoffs(sqlite_engine)
    assert handoff.fit_grade == "A"
    assert handoff.qualification_cycle == 2
    assert len(emitted(sqlite_engine, "handoff.assigned")) == 1


def test_a_second_lead_of_the_account_goes_to_the_rep_who_holds_the_account(sqlite_engine: Engine) -> None:
    save_org(sqlite_engine)
    consume(sqlite_engine, qualified(1))
    consume(sqlite_engine, qualified(2, at=T0 + timedelta(minutes=5)))
    consume(sqlite_engine, qualified(3, at=T0 + timedelta(minutes=10)))

    first, second, third = handoffs(sqlite_engine)
    assert second.rep_id == first.rep_id == third.rep_id
    assert emitted(sqlite_engine, "handoff.assigned")[1].data.routing_rule == "account_owner"


def test_the_crm_owner_of_the_domain_gets_the_lead(sqlite_engine: Engine) -> None:
    save_org(sqlite_engine)
    consume(sqlite_engine, qualified(1, domain="bmw.de", account_id=None))

    [handoff] = handoffs(sqlite_engine)
    assert handoff.rep_id == ANA


def test_without_a_sales_org_the_handoff_waits_unrouted(sqlite_engine: Engine) -> None:
    consume(sqlite_engine, qualified(1))

    [handoff] = handoffs(sqlite_engine)
    assert handoff.status == "unrouted"
    assert [event.type for event in emitted(sqlite_engine)] == ["leadflow.handoff.created.v1"]


def test_a_handoff_written_at_the_batch_end_keeps_its_unset_json_columns_sql_null(sqlite_engine: Engine) -> None:
    save_org(sqlite_engine)
    consume(sqlite_engine, published(), qualified(1))

    with SqlEventLog(sqlite_engine).unit_of_work() as uow:
        query = select(
            HandoffRecord.opportunity.is_(None), HandoffRecord.outcome.is_(None), HandoffRecord.excluded_reps
        )
        nulls = uow.session.execute(query).one()
    assert tuple(nulls) == (True, True, [])  # as the ORM inserts them: never set is NULL, not the JSON 'null'
