"""What the timer tests share: a clock the test moves, an effect table, and timers set in bulk."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, String, Table, UniqueConstraint, insert, select

from database.engine import make_session_factory
from database.types import UtcDateTime
from eventlog.unit_of_work import UnitOfWork
from tests.clock import T0
from timers.models import TimerRecord
from timers.scheduler import Clock as ClockType
from timers.scheduler import Scheduler, Timer, TimerHandler

# The tests' handler writes here: one row per effect, in the order the effects happened. A second effect of one
# timer at one due time would break the unique constraint: the database checks "exactly once" as well.
effects_metadata = MetaData(schema="timers")
effect = Table(
    "test_timer_effect",
    effects_metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("timer_id", BigInteger),
    Column("key", String(320)),
    Column("due_at", UtcDateTime),
    Column("fired_by", Integer),
    UniqueConstraint("timer_id", "due_at"),  # a timer moved or set again after firing fires again
)


def record_effect(timer: Timer, uow: UnitOfWork) -> None:
    """The tests' handler: one row per fired timer, keyed by the timer's id."""
    uow.session.execute(
        insert(effect).values(timer_id=timer.id, key=timer.key, due_at=timer.due_at, fired_by=os.getpid())
    )


def prepare(engine: Engine) -> None:
    """Create the effect table beside the migrated ones."""
    effects_metadata.create_all(engine)


def uow_for(engine: Engine) -> UnitOfWork:
    """A unit of work on `engine`."""
    return UnitOfWork(make_session_factory(engine))


def scheduler(
    engine: Engine,
    clock: ClockType,
    handlers: dict[tuple[str, str], TimerHandler] | None = None,
    **options: Any,
) -> Scheduler:
    """A scheduler on `engine` whose only handler, by default, is nurture's `step_due` recording its effect."""
    return Scheduler(
        uow=uow_for(engine), handlers=handlers or {("nurture", "step_due"): record_effect}, clock=clock, **options
    )


def set_timers(engine: Engine, dues: list[datetime], *, owner: str = "nurture", kind: str = "step_due") -> None:
    """Set one timer per due time in one statement (keys `t<index>`), as a day of enrollments would."""
    rows = [
        {"owner": owner, "kind": kind, "key": f"t{n}", "due_at": due, "payload": {"n": n}, "created_at": T0}
        for n, due in enumerate(dues)
    ]
    with engine.begin() as connection:
        connection.execute(insert(TimerRecord), rows)


def effects(engine: Engine) -> list[tuple[str, datetime]]:
    """(key, due time) of every effect, in the order they happened."""
    with engine.connect() as connection:
        rows = connection.execute(select(effect.c.key, effect.c.due_at).order_by(effect.c.seq)).all()
    return [(key, due_at) for key, due_at in rows]


def drain(sched: Scheduler, limit: int = 10_000) -> int:
    """Step `sched` until a step settles nothing; the number settled."""
    total = 0
    for _ in range(limit):
        settled = sched.step()
        if not settled:
            return total
        total += settled
    raise AssertionError(f"the scheduler still had timers after {limit} steps")
