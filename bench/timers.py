"""Durable timers fired on PostgreSQL: one and two scheduler processes, a no-op handler and an outbox write.

Run: `scripts/with-services .venv/bin/python bench/timers.py` (add `--timers 20000` for a quick look).
For comparison, Mautic's campaign trigger handles about 20 scheduled events a second (its issue #5423).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import event, func, select, text

from bench.common import T0, fresh_database, report, servers
from database.engine import make_engine, make_session_factory
from eventlog.models import OutboxRecord
from eventlog.unit_of_work import UnitOfWork
from events.catalog.nurture import NurtureActionRequested
from events.registry import new_event
from timers.models import TimerRecord
from timers.scheduler import Scheduler, Timer

# 100,000 nurture steps due over the last day, as a backlog after a day of downtime would be.
SEED = """
INSERT INTO timers.timer (owner, kind, key, due_at, payload, created_at)
SELECT 'nurture', 'step_due', 'enrollment-' || n, CAST(:t0 AS timestamptz) - n * interval '860 ms',
       json_build_object('enrollment_id', gen_random_uuid(), 'lead_id', gen_random_uuid(),
                         'track_id', 'warehouse-automation-awareness', 'step', 1 + n % 5,
                         'email', 'person' || n || '@account' || (n % 10000) || '.example',
                         'account', 'account' || (n % 10000) || '.example'),
       CAST(:t0 AS timestamptz)
FROM generate_series(1, :count) AS n
"""


def no_op(timer: Timer, uow: UnitOfWork) -> None:
    """The scheduler's own cost: claim, mark fired, commit."""


def request_step(timer: Timer, uow: UnitOfWork) -> None:
    """What nurture's step handler will do at least: one event, timed at the step's due time, in the outbox."""
    payload = timer.payload
    data = NurtureActionRequested.model_validate(
        {
            "enrollment_id": payload["enrollment_id"],
            "lead_id": payload["lead_id"],
            "contact_id": payload["lead_id"],
            "track_id": payload["track_id"],
            # The same step of the same enrollment asks once, however often it is replayed.
            "action_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{payload['enrollment_id']}:{payload['step']}"),
            "step": payload["step"],
            "contact": {"email": payload["email"]},
            "action": {"channel": "email", "content_id": f"step-{payload['step']}"},
        }
    )
    uow.emit(new_event(data, key=payload["account"], time=timer.due_at, source="nurture"))


HANDLERS = {"no-op": no_op, "outbox": request_step}


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fire(url: str, handler: str, batch_size: int, ready: Any, go: Any, done: Any) -> None:
    """One scheduler process, as `leadflow run scheduler` runs it: fire until nothing is due."""
    engine = make_engine(url)
    backends: list[int] = []  # the PostgreSQL server processes serving this scheduler, for their CPU time
    event.listen(engine, "connect", lambda connection, _record: backends.append(connection.info.backend_pid))
    scheduler = Scheduler(
        uow=UnitOfWork(make_session_factory(engine)),
        handlers={("nurture", "step_due"): HANDLERS[handler]},
        batch_size=batch_size,
    )
    with engine.connect() as connection:  # connected before the clock starts
        connection.execute(text("SELECT 1"))
    ready.put(os.getpid())
    go.wait()
    cpu = (time.process_time(), sum(_cpu_s(pid) for pid in backends))
    fired = 0
    while settled := scheduler.step():
        fired += settled
    done.put((fired, time.process_time() - cpu[0], sum(_cpu_s(pid) for pid in backends) - cpu[1]))


def fire_rate(
    url: str, count: int, handler: str, processes: int, batch_size: int
) -> tuple[float, list[int], float, float, int]:
    """`processes` schedulers over `count` due timers: timers/s, how many each fired, CPU µs per timer of the
    schedulers and of their PostgreSQL backends (the figures that do not depend on how busy the machine is),
    outbox rows written."""
    with fresh_database(url) as engine:
        with engine.begin() as connection:
            connection.execute(text(SEED), {"t0": T0, "count": count})
            connection.execute(text("ANALYZE timers.timer"))
        url = engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("spawn")
        ready, done, go = context.Queue(), context.Queue(), context.Event()
        workers = [
            context.Process(target=_fire, args=(url, handler, batch_size, ready, go, done)) for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        for _ in workers:
            ready.get(timeout=60)
        started = time.perf_counter()
        go.set()
        results = [done.get(timeout=600) for _ in workers]
        elapsed = time.perf_counter() - started
        for worker in workers:
            worker.join()
        with engine.connect() as connection:
            pending = connection.scalar(select(func.count()).where(TimerRecord.fired_at.is_(None)))
            outbox = connection.scalar(select(func.count()).select_from(OutboxRecord)) or 0
        fired = [result[0] for result in results]
        client_us, server_us = (sum(result[n] for result in results) / count * 1e6 for n in (1, 2))
        if pending or sum(fired) != count:
            raise SystemExit(f"{handler}/{processes}: fired {fired}, {pending} left pending")
    return count / elapsed, fired, client_us, server_us, outbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--processes", default="1,2", help="scheduler process counts to measure, e.g. 1,2")
    args = parser.parse_args()
    url, _ = servers()
    print(f"bench/timers: {args.timers:,} due timers on PostgreSQL, batch {args.batch_size}")
    rows = []
    for handler in HANDLERS:
        for processes in (int(n) for n in args.processes.split(",")):
            rate, fired, client_us, server_us, outbox = fire_rate(url, args.timers, handler, processes, args.batch_size)
            label = f"{handler} handler, {processes} scheduler process{'es' if processes > 1 else ''}"
            shares = " + ".join(f"{n:,}" for n in fired)
            cpu = f"CPU {client_us:.0f} + {server_us:.0f} µs/timer"
            rows.append((label, f"{rate:>8,.0f} timers/s  ({cpu}; fired {shares}; outbox rows {outbox:,})"))
    print(
        f"  (load average when done: {', '.join(f'{load:.1f}' for load in os.getloadavg())} on {os.cpu_count()} cores)"
    )
    report(rows)
    print("  CPU: the scheduler processes + their PostgreSQL backends, per timer. 1e6 / (their sum) is the ceiling")
    print("  of one scheduler process with a core to itself and PostgreSQL on another; on a busy machine it is less.")


if __name__ == "__main__":
    main()
