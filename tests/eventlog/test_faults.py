"""Faults on every backend: a killed consumer, a stopped consumer, a database that drops connections."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from eventlog.models import DeadLetter
from tests.eventlog.harness import Harness, record_effect, touch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start consumers in their own processes; whatever a failed test leaves running is killed."""
    children: list[subprocess.Popen[str]] = []

    def start(backend: Harness, group: str, *extra: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "tests.eventlog.consumer_child", "--db-url", backend.database_url]
        command += ["--prefix", backend.prefix, "--group", group, *extra]
        if backend.bootstrap:
            command += ["--bootstrap", backend.bootstrap]
        children.append(subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True))
        return children[-1]

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


@pytest.mark.parametrize("kill_point", ["handler", "before_offset_commit"])
def test_consumer_killed_mid_batch_resumes_without_loss_or_double_effect(
    backend: Harness, kill_point: str, spawn: Callable[..., subprocess.Popen[str]]
) -> None:
    backend.emit(*[touch("acme.com", seq) for seq in range(40)])
    backend.deliver()

    child = spawn(backend, "g", "--kill-at-seq", "25", "--kill-point", kill_point)
    assert child.wait(timeout=300) == -signal.SIGKILL
    handled_before_kill = len(backend.effects("g"))
    assert 0 < handled_before_kill < 40 or kill_point == "before_offset_commit"

    proc = backend.processor("g", batch_size=10)
    backend.consume_until(proc, lambda: len(backend.effects("g")) >= 40)

    assert backend.effects("g") == [("acme.com", seq) for seq in range(40)]


def test_sigterm_finishes_the_batch_and_exits_cleanly(
    backend: Harness, spawn: Callable[..., subprocess.Popen[str]]
) -> None:
    backend.emit(*[touch("acme.com", seq) for seq in range(30)])
    backend.deliver()

    child = spawn(backend, "g")
    deadline = time.monotonic() + 60
    while len(backend.effects("g")) < 30:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=60)

    assert child.returncode == 0
    assert "stopped cleanly" in out
    # Everything it handled was committed with its offsets: a successor has nothing left to do.
    backend.emit(touch("acme.com", 30))
    backend.deliver()
    proc = backend.processor("g")
    backend.consume_until(proc, lambda: len(backend.effects("g")) >= 31)
    assert backend.effects("g") == [("acme.com", seq) for seq in range(31)]


def test_transient_database_fault_is_retried_never_dead_lettered(backend: Harness) -> None:
    backend.emit(*[touch("acme.com", seq) for seq in range(5)])
    backend.deliver()
    faults = {"left": 3}

    def flaky(event, uow):
        if faults["left"]:
            faults["left"] -= 1
            if uow.session.bind.dialect.name == "postgresql":
                # A real fault: the server drops this very connection.
                uow.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
            raise OperationalError("SELECT 1", {}, ConnectionError("database is unreachable"))
        record_effect(event, uow)

    proc = backend.processor("g", flaky)
    backend.consume_until(proc, lambda: len(backend.effects("g")) >= 5)

    assert backend.effects("g") == [("acme.com", seq) for seq in range(5)]
    with backend.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DeadLetter)) == 0
