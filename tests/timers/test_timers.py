"""Timers on SQLite and PostgreSQL: set with their cause, moved, cancelled, fired once each in due order."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from eventlog.models import OutboxRecord
from events.catalog import TouchRecorded
from events.catalog.common import ContactIdentity
from events.registry import decode, new_event
from tests.clock import T0, Clock
from tests.timers.support import effects, record_effect, scheduler, set_timers, uow_for
from timers.models import TimerDeadLetter, TimerRecord
from timers.schedule import cancel, schedule
from timers.scheduler import Timer, TimerHandler


def _schedule(engine: Engine, key: str, due_minutes: float, **fields) -> None:
    with uow_for(engine) as uow:
        schedule(uow, owner="nurture", kind="step_due", key=key, due_at=T0 + timedelta(minutes=due_minutes), **fields)
        uow.commit()


def _pending(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).where(TimerRecord.fired_at.is_(None))).scalar_one()


def _dead_letters(engine: Engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(TimerDeadLetter.owner, TimerDeadLetter.kind, TimerDeadLetter.key, TimerDeadLetter.reason)
        ).all()
    return sorted((owner, kind, key, reason) for owner, kind, key, reason in rows)


def test_a_timer_set_in_a_rolled_back_transaction_does_not_exist(engine: Engine, clock: Clock) -> None:
    with uow_for(engine) as uow:
        schedule(uow, owner="nurture", kind="step_due", key="enrollment-1", due_at=T0)
        uow.rollback()

    assert _pending(engine) == 0
    assert scheduler(engine, clock).step() == 0


def test_scheduling_the_same_key_again_moves_the_timer(engine: Engine, clock: Clock) -> None:
    _schedule(engine, "enrollment-1", 10, payload={"step": 1})
    _schedule(engine, "enrollment-1", 30, payload={"step": 2})
    sched = scheduler(engine, clock)

    clock.advance(minutes=20)
    assert sched.step() == 0
    clock.advance(minutes=10)
    assert sched.step() == 1

    assert effects(engine) == [("enrollment-1", T0 + timedelta(minutes=30))]
    assert _pending(engine) == 0


def test_a_fired_timer_scheduled_again_fires_again(engine: Engine, clock: Clock) -> None:
    _schedule(engine, "enrollment-1", 0)
    sched = scheduler(engine, clock)
    assert sched.step() == 1
    _schedule(engine, "enrollment-1", 5)

    clock.advance(minutes=5)
    assert sched.step() == 1
    assert [due for _, due in effects(engine)] == [T0, T0 + timedelta(minutes=5)]


def test_a_cancelled_timer_never_fires(engine: Engine, clock: Clock) -> None:
    _schedule(engine, "enrollment-1", 1)
    _schedule(engine, "enrollment-2", 1)
    with uow_for(engine) as uow:
        assert cancel(uow, owner="nurture", key="enrollment-1") is True
        assert cancel(uow, owner="nurture", key="never-set") is False
        uow.commit()

    clock.advance(hours=1)
    assert scheduler(engine, clock).step() == 1
    assert [key for key, _ in effects(engine)] == ["enrollment-2"]


def test_due_timers_fire_in_due_order_and_not_before(engine: Engine, clock: Clock) -> None:
    dues = [T0 + timedelta(seconds=n) for n in range(50)]
    random.Random(7).shuffle(dues)
    set_timers(engine, dues)
    sched = scheduler(engine, clock, batch_size=7)

    clock.advance(seconds=24.5)
    assert sum(iter(sched.step, 0)) == 25
    clock.advance(seconds=100)
    assert sum(iter(sched.step, 0)) == 25

    assert [due for _, due in effects(engine)] == sorted(dues)


def test_each_timer_fires_once_however_often_the_scheduler_steps(engine: Engine, clock: Clock) -> None:
    set_timers(engine, [T0] * 30)
    first, second = scheduler(engine, clock, batch_size=8), scheduler(engine, clock, batch_size=5)

    fired = [first.step() + second.step() for _ in range(10)]

    assert sum(fired) == 30
    assert sorted(key for key, _ in effects(engine)) == sorted(f"t{n}" for n in range(30))


def test_timers_nobody_handles_are_dead_lettered_and_the_others_fire(engine: Engine, clock: Clock) -> None:
    set_timers(engine, [T0, T0])
    with uow_for(engine) as uow:
        schedule(uow, owner="nurture", kind="retired_kind", key="odd-kind", due_at=T0)
        schedule(uow, owner="billing", kind="invoice_due", key="odd-owner", due_at=T0)
        uow.commit()

    assert scheduler(engine, clock).step() == 4

    assert sorted(key for key, _ in effects(engine)) == ["t0", "t1"]
    assert _dead_letters(engine) == [
        ("billing", "invoice_due", "odd-owner", "no_handler"),
        ("nurture", "retired_kind", "odd-kind", "no_handler"),
    ]
    with engine.connect() as connection:
        errors = set(connection.execute(select(TimerDeadLetter.error)).scalars())
    assert errors == {
        "no handler for owner 'billing' (timer kind 'invoice_due')",
        "owner 'nurture' has no handler for timer kind 'retired_kind'",
    }
    assert _pending(engine) == 0


def test_a_failing_handler_dead_letters_its_timer_only(engine: Engine, clock: Clock) -> None:
    set_timers(engine, [T0 + timedelta(seconds=n) for n in range(10)])

    def fails_on_t3(timer: Timer, uow) -> None:
        record_effect(timer, uow)  # undone with the savepoint: a dead-lettered timer has no effect
        if timer.key == "t3":
            raise ValueError("step 3 of track 'awareness' has no content")

    clock.advance(minutes=1)
    assert scheduler(engine, clock, handlers={("nurture", "step_due"): fails_on_t3}).step() == 10

    assert [key for key, _ in effects(engine)] == [f"t{n}" for n in range(10) if n != 3]
    assert _dead_letters(engine) == [("nurture", "step_due", "t3", "handler_error")]
    with engine.connect() as connection:
        letter = connection.execute(select(TimerDeadLetter.payload, TimerDeadLetter.error)).one()
    assert tuple(letter) == ({"n": 3}, "ValueError: step 3 of track 'awareness' has no content")


def test_a_transient_fault_is_retried_never_dead_lettered(engine: Engine, clock: Clock) -> None:
    set_timers(engine, [T0] * 3)
    faults = [OperationalError("SELECT 1", {}, Exception("server closed the connection"))]
    stop = threading.Event()

    def flaky(timer: Timer, uow) -> None:
        if faults:
            raise faults.pop()
        record_effect(timer, uow)
        if timer.key == "t2":
            stop.set()

    thread = threading.Thread(
        target=scheduler(engine, clock, handlers={("nurture", "step_due"): flaky}).run, args=(stop,)
    )
    thread.start()
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert [key for key, _ in effects(engine)] == ["t0", "t1", "t2"]
    assert _dead_letters(engine) == []


def test_the_fact_of_a_timer_takes_its_due_time_and_the_firing_time_is_kept_beside_it(
    engine: Engine, clock: Clock
) -> None:
    _schedule(engine, "enrollment-1", 15, payload={"account": "acme.com"})

    def step_due(timer: Timer, uow) -> None:
        data = TouchRecorded(
            touch_id=uuid.uuid4(),
            contact=ContactIdentity(email="buyer@acme.com"),
            touch_type="page_view",
            source_system="test",
        )
        uow.emit(new_event(data, key=timer.payload["account"], time=timer.due_at, source="nurture"))

    clock.advance(hours=3)  # the scheduler was down: the timer fires late
    scheduler(engine, clock, handlers={("nurture", "step_due"): step_due}).step()

    with engine.connect() as connection:
        value = connection.execute(select(OutboxRecord.value)).scalar_one()
        fired_at = connection.execute(select(TimerRecord.fired_at)).scalar_one()
    assert decode(value).time == T0 + timedelta(minutes=15)
    assert fired_at == T0 + timedelta(hours=3)


def test_a_handler_that_schedules_its_own_key_again_rearms_it(engine: Engine, clock: Clock) -> None:
    _schedule(engine, "enrollment-1", 0, payload={"step": 1})

    def next_step(timer: Timer, uow) -> None:
        record_effect(timer, uow)
        step = timer.payload["step"]
        if step < 3:
            schedule(
                uow,
                owner="nurture",
                kind="step_due",
                key=timer.key,
                due_at=timer.due_at + timedelta(days=2),
                payload={"step": step + 1},
            )

    sched = scheduler(engine, clock, handlers={("nurture", "step_due"): next_step})
    for _ in range(5):
        sched.step()
        clock.advance(days=2)

    assert [due for _, due in effects(engine)] == [T0, T0 + timedelta(days=2), T0 + timedelta(days=4)]


def test_a_scheduler_for_some_owners_leaves_the_others_timers_alone(engine: Engine, clock: Clock) -> None:
    set_timers(engine, [T0], owner="handoff", kind="sla_due")
    set_timers(engine, [T0])

    assert scheduler(engine, clock, owners={"nurture"}).step() == 1

    assert _pending(engine) == 1
    assert _dead_letters(engine) == []


def test_how_late_timers_fire_is_measured(engine: Engine, clock: Clock) -> None:
    owner = f"lag-{uuid.uuid4().hex[:6]}"  # metrics are process-wide: an owner of its own
    set_timers(engine, [T0, T0 + timedelta(seconds=30)], owner=owner)
    clock.advance(minutes=1)

    scheduler(engine, clock, handlers={(owner, "step_due"): record_effect}).step()

    assert REGISTRY.get_sample_value("leadflow_timer_lag_seconds_count", {"owner": owner}) == 2
    assert REGISTRY.get_sample_value("leadflow_timer_lag_seconds_sum", {"owner": owner}) == 90
    assert REGISTRY.get_sample_value("leadflow_timers_fired_total", {"owner": owner, "kind": "step_due"}) == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"due_at": T0.replace(tzinfo=None)}, "timer nurture/k: `due_at` must be timezone-aware"),
        ({"payload": {"at": T0}}, "timer nurture/k: `payload` must be JSON-serialisable"),
        ({"key": ""}, "timer: `key` must be 1 to 320 characters"),
        ({"owner": "x" * 101}, "timer: `owner` must be 1 to 100 characters"),
    ],
)
def test_a_timer_that_could_not_fire_is_refused_naming_the_field(
    sqlite_engine: Engine, fields: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"owner": "nurture", "kind": "step_due", "key": "k", "due_at": T0} | fields
    with uow_for(sqlite_engine) as uow, pytest.raises(ValueError, match=message.replace("`", ".")):
        schedule(uow, **arguments)


class _Batched:
    """A batch handler that records which timers it was given together, and fails on `t3` when asked."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self._fail_on = fail_on

    def __call__(self, timer: Timer, uow: Any) -> None:
        self.many([timer], uow)

    def many(self, timers: Any, uow: Any) -> None:
        self.calls.append([timer.key for timer in timers])
        for timer in timers:
            record_effect(timer, uow)
            if timer.key == self._fail_on:
                raise ValueError(f"{timer.key}: no content")


def test_a_batch_handler_takes_the_timers_of_its_kind_fired_together_in_due_order(engine: Engine, clock: Clock) -> None:
    set_timers(engine, [T0 + timedelta(seconds=n) for n in range(3)])
    with uow_for(engine) as uow:
        schedule(uow, owner="nurture", kind="recycle_due", key="r0", due_at=T0 + timedelta(seconds=10))
        uow.commit()
    batched = _Batched()
    clock.advance(minutes=1)
    handlers: dict[tuple[str, str], TimerHandler] = {
        ("nurture", "step_due"): batched,
        ("nurture", "recycle_due"): record_effect,
    }

    assert scheduler(engine, clock, handlers=handlers).step() == 4

    assert batched.calls == [["t0", "t1", "t2"]]
    assert [key for key, _ in effects(engine)] == ["t0", "t1", "t2", "r0"]


def test_a_failing_batch_is_redone_one_timer_at_a_time_and_only_the_culprit_is_dead_lettered(
    engine: Engine, clock: Clock
) -> None:
    set_timers(engine, [T0 + timedelta(seconds=n) for n in range(5)])
    batched = _Batched(fail_on="t3")
    clock.advance(minutes=1)

    assert scheduler(engine, clock, handlers={("nurture", "step_due"): batched}).step() == 5

    assert batched.calls == [["t0", "t1", "t2", "t3", "t4"], ["t0"], ["t1"], ["t2"], ["t3"], ["t4"]]
    assert [key for key, _ in effects(engine)] == ["t0", "t1", "t2", "t4"]
    assert _dead_letters(engine) == [("nurture", "step_due", "t3", "handler_error")]
