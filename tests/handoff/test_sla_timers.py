"""The SLA's timers on an injected clock: warning, breach, then the definition's policy; the unrouted retried."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from services.handoff.models import HandoffRecord
from tests.clock import T0, Clock
from tests.handoff.org.documents import small
from tests.handoff.support import ANA, BEN, MIA, consume, emitted, fire_until, handoffs, published, qualified, save_org


def due(handoff: HandoffRecord) -> datetime:
    """The handoff's deadline (it is assigned)."""
    assert handoff.due_at is not None
    return handoff.due_at


def test_a_breached_sla_reassigns_to_the_next_rep_with_a_new_clock(sqlite_engine: Engine) -> None:
    save_org(sqlite_engine)
    consume(sqlite_engine, published("reassign"), qualified(1))
    [first] = handoffs(sqlite_engine)
    clock = Clock(T0)

    fire_until(sqlite_engine, clock, due(first) + timedelta(minutes=1))

    [handoff] = handoffs(sqlite_engine)
    assert handoff.status == "assigned"
    assert {handoff.rep_id, first.rep_id} == {ANA, BEN}
    assert handoff.breach_count == 1
    assert not handoff.breached
    # The new clock starts at the breach (Tuesday 10:00 Berlin): 8 business hours later is Wednesday 10:00.
    assert handoff.due_at == due(first) + timedelta(days=1)
    names = [event.type.split(".")[2] for event in emitted(sqlite_engine, "handoff.sla_warned",
             "handoff.sla_breached", "handoff.reassigned")]  # fmt: skip
    assert names == ["sla_warned", "sla_breached", "reassigned"]
    breached = emitted(sqlite_engine, "handoff.sla_breached")[0]
    assert breached.time == first.due_at
    assert breached.data.on_breach == "reassign"
    assert emitted(sqlite_engine, "handoff.reassigned")[0].data.reason == "sla_breached"


def test_a_breach_with_escalation_names_the_manager_and_stops_the_clock(sqlite_engine: Engine) -> None:
    save_org(sqlite_engine)
    consume(sqlite_engine, published("escalate"), qualified(1))
    [first] = handoffs(sqlite_engine)
    clock = Clock(T0)

    fire_until(sqlite_engine, clock, due(first) + timedelta(days=3))

    [handoff] = handoffs(sqlite_engine)
    assert handoff.status == "assigned"
    assert handoff.rep_id == first.rep_id
    assert handoff.breached
    assert handoff.escalated_to == MIA
    assert [event.data.escalated_to for event in emitted(sqlite_engine, "handoff.sla_breached")] == [MIA]


def test_a_breach_that_returns_to_the_queue_is_routed_again_to_someone_else(sqlite_engine: Engine) -> None:
    save_org(sqlite_engine)
    consume(sqlite_engine, published("return_to_queue"), qualified(1))
    [first] = handoffs(sqlite_engine)
    clock = Clock(T0)

    fire_until(sqlite_engine, clock, due(first) + timedelta(minutes=1))
    [queued] = handoffs(sqlite_engine)
    assert queued.status == "unrouted"
    assert emitted(sqlite_engine, "handoff.returned_to_queue")[0].data.reason == "sla_breached"

    fire_until(sqlite_engine, clock, clock.now + timedelta(minutes=30))
    [routed] = handoffs(sqlite_engine)
    assert routed.status == "assigned"
    assert routed.rep_id != first.rep_id


def test_an_unrouted_handoff_is_routed_once_someone_is_available(sqlite_engine: Engine) -> None:
    everyone_away = small()
    for rep in everyone_away["reps"]:
        rep["out_of_office"] = [{"start": "2026-11-01T00:00:00Z", "end": "2026-11-02T12:00:00Z"}]
    save_org(sqlite_engine, everyone_away)
    consume(sqlite_engine, qualified(1))
    assert handoffs(sqlite_engine)[0].status == "unrouted"
    clock = Clock(T0)

    fire_until(sqlite_engine, clock, T0 + timedelta(hours=3, minutes=30))

    [handoff] = handoffs(sqlite_engine)
    assert handoff.status == "assigned"
    assert handoff.assigned_at is not None
    assert handoff.assigned_at >= T0 + timedelta(hours=3)
