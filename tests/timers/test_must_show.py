"""What the timers promise under load and faults: shared work, a killed scheduler, a clock that jumps."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, select

from tests.clock import T0, Clock
from tests.timers.support import effect, effects, prepare, scheduler, set_timers
from timers.models import TimerDeadLetter, TimerRecord

ROOT = Path(__file__).resolve().parents[2]
Spawn = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def spawn(postgres_engine: Engine) -> Iterator[Spawn]:
    """Start schedulers in their own processes on `postgres_engine`; whatever a failed test leaves is killed."""
    children: list[subprocess.Popen[str]] = []
    url = postgres_engine.url.render_as_string(hide_password=False)

    def start(*extra: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "tests.timers.scheduler_child", "--db-url", url, "--now", T0.isoformat()]
        child = subprocess.Popen([*command, *extra], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


def _go(*children: subprocess.Popen[str]) -> None:
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()


def _counts(engine: Engine) -> tuple[int, int, int]:
    """Effects, distinct timers with an effect, timers not fired."""
    with engine.connect() as connection:
        effects_ = connection.execute(select(func.count()).select_from(effect)).scalar_one()
        distinct = connection.execute(select(func.count(func.distinct(effect.c.timer_id)))).scalar_one()
        pending = connection.execute(select(func.count()).where(TimerRecord.fired_at.is_(None))).scalar_one()
    return effects_, distinct, pending


def test_two_scheduler_processes_fire_each_of_10_000_timers_exactly_once(postgres_engine: Engine, spawn: Spawn) -> None:
    prepare(postgres_engine)
    set_timers(postgres_engine, [T0 - timedelta(seconds=n % 3600) for n in range(10_000)])
    first, second = spawn("--batch-size", "100"), spawn("--batch-size", "100")

    _go(first, second)
    outputs = [child.communicate(timeout=120)[0] for child in (first, second)]

    assert [child.returncode for child in (first, second)] == [0, 0]
    fired = [int(out.split()[-1]) for out in outputs]
    assert sum(fired) == 10_000
    assert _counts(postgres_engine) == (10_000, 10_000, 0)
    with postgres_engine.connect() as connection:
        by_process = Counter(connection.execute(select(effect.c.fired_by)).scalars())
        assert connection.execute(select(func.count()).select_from(TimerDeadLetter)).scalar_one() == 0
    assert sorted(by_process.values()) == sorted(fired)
    assert min(fired) > 0, f"one scheduler did all the work: {fired}"


def test_a_scheduler_killed_mid_batch_and_restarted_fires_each_timer_once(
    postgres_engine: Engine, spawn: Spawn
) -> None:
    prepare(postgres_engine)
    set_timers(postgres_engine, [T0 - timedelta(minutes=1000 - n) for n in range(1000)])
    doomed = spawn("--batch-size", "100", "--kill-at-key", "t550")

    _go(doomed)
    assert doomed.wait(timeout=60) == -signal.SIGKILL
    effects_before, _, pending_before = _counts(postgres_engine)
    assert (effects_before, pending_before) == (500, 500)  # five batches committed; the sixth died with it

    clock = Clock(T0)
    assert sum(iter(scheduler(postgres_engine, clock, batch_size=100).step, 0)) == 500

    assert _counts(postgres_engine) == (1000, 1000, 0)
    assert [key for key, _ in effects(postgres_engine)] == [f"t{n}" for n in range(1000)]


def test_after_the_clock_jumps_an_hour_overdue_timers_fire_once_each_in_due_order(engine: Engine, clock: Clock) -> None:
    dues = [T0 + timedelta(seconds=6 * n) for n in range(1, 611)]  # every 6 s for an hour, and 10 past it
    random.Random(3).shuffle(dues)
    set_timers(engine, dues)
    sched = scheduler(engine, clock, batch_size=50)
    assert sched.step() == 0
    lag_before = REGISTRY.get_sample_value("leadflow_timer_lag_seconds_sum", {"owner": "nurture"}) or 0.0

    clock.advance(hours=1)  # the scheduler was down, or the host slept
    overdue = sum(iter(sched.step, 0))

    assert overdue == 600
    assert [due for _, due in effects(engine)] == sorted(due for due in dues if due <= T0 + timedelta(hours=1))
    assert _counts(engine)[:2] == (600, 600)
    # Each fired late by the hour less its due offset: 6 s to 3600 s.
    lag = (REGISTRY.get_sample_value("leadflow_timer_lag_seconds_sum", {"owner": "nurture"}) or 0.0) - lag_before
    assert lag == sum(3600 - 6 * n for n in range(1, 601))
    clock.advance(minutes=1)
    assert sum(iter(sched.step, 0)) == 10
    assert _counts(engine)[:2] == (610, 610)
