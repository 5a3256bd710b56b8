"""Nurture on PostgreSQL: due steps fired by one and two scheduler processes, and enrollment from lead.scored.

Steps: N enrolled contacts, each with a step due (a backlog, as after a night of downtime), each fired by the real
step handler: consent, caps over the contact's last sends (one in ten is at its cap and is deferred), quiet
hours, the action in the outbox, the history row, the next step's timer. Enrollment: N lead.scored events read
by the nurture consumer (projection, track choice, enrollment, first timer, nurture.enrolled) beside the event
log's no-op consumer of the same topic.

Run: `make bench`, or `scripts/with-services .venv/bin/python bench/nurture.py --contacts 10000` for a quick look.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kafka.consumer import KafkaConsumer
from kafka.structs import OffsetAndMetadata, TopicPartition
from sqlalchemy import Engine, func, select, text

from bench.common import T0, fresh_database, populate, report, servers
from bench.eventlog import eventlog_consume_rate
from database.engine import make_engine, make_session_factory
from eventlog.backends import KafkaEventLog, processor
from eventlog.kafka import ensure_topics
from eventlog.models import OutboxRecord
from eventlog.processor import Handlers
from eventlog.unit_of_work import UnitOfWork
from events.catalog import LeadScored
from events.catalog.leads import LeadProfile
from events.registry import encode, new_event
from events.topics import LEADS
from services.nurture import consumer
from services.nurture.enrollment.book import StoredTracks
from services.nurture.enrollment.handlers import OWNER, STEP_DUE
from services.nurture.enrollment.models import NurtureEnrollment, NurtureStepRun
from services.nurture.scheduling import step_due
from services.nurture.tracks import handlers as tracks
from timers.models import TimerRecord
from timers.scheduler import Scheduler

NOW = T0 + timedelta(hours=10)  # Monday 5 January 2026, 11:00 in Paris: no quiet hours for the backlog
SETTINGS: dict[str, Any] = {
    "default_time_zone": "Europe/Paris",
    "caps": [{"channel": "email", "max_actions": 2, "window_days": 7}],
    "quiet_hours": {"start": "20:00", "end": "08:00"},
}
TRACK: dict[str, Any] = {
    "key": "bench-awareness",
    "name": "Awareness (bench)",
    "entry": {"stages": ["raw"]},
    "steps": [
        {"id": "welcome", "action": {"channel": "email", "content_id": "welcome"}},
        {"id": "guide", "wait": {"duration": "P3D"}, "action": {"channel": "email", "content_id": "guide"}},
        {"id": "retarget", "wait": {"duration": "P3D"}, "action": {"channel": "ad_audience", "content_id": "ads"}},
    ],
}
# Contact n at account n % 10000, in Paris, Berlin or London; enrolled at step 1, due in the last ~3 hours. Each
# had one email three days ago; one in ten had a second yesterday, so its step is deferred by the cap.
SEED = """
INSERT INTO nurture.nurture_contact (contact_id, account_key, email, stage, fit_grade, time_zone, campaigns,
                                     marketing_consent, updated_at)
SELECT md5('c' || n)::uuid, 'account' || (n % 10000) || '.example', 'person' || n || '@account' || (n % 10000)
       || '.example', 'raw', 'B', (ARRAY['Europe/Paris', 'Europe/Berlin', 'Europe/London'])[1 + n % 3], '[]', true,
       :now
FROM generate_series(1, :count) AS n;
INSERT INTO nurture.nurture_enrollment (id, contact_id, account_key, track_key, track_version, entry_reason, status,
                                        step, phase, next_due_at, steps_sent, last_step, enrolled_at)
SELECT md5('e' || n)::uuid, md5('c' || n)::uuid, 'account' || (n % 10000) || '.example', 'bench-awareness', 1,
       'new_raw_lead', 'active', 1, 'action', CAST(:now AS timestamptz) - n * interval '100 ms', 0, 0,
       CAST(:now AS timestamptz) - interval '4 days'
FROM generate_series(1, :count) AS n;
INSERT INTO timers.timer (owner, kind, key, due_at, payload, created_at)
SELECT 'nurture', 'step_due', 'step:' || md5('e' || n)::uuid, CAST(:now AS timestamptz) - n * interval '100 ms',
       json_build_object('enrollment_id', md5('e' || n)::uuid, 'step', 1, 'phase', 'action'), :now
FROM generate_series(1, :count) AS n;
INSERT INTO nurture.nurture_step_run (enrollment_id, contact_id, step_id, step, outcome, channel, content_id, due_at,
                                      at)
SELECT md5('old' || n)::uuid, md5('c' || n)::uuid, 'intro', 1, 'sent', 'email', 'intro', t, t
FROM generate_series(1, :count) AS n, LATERAL (SELECT CAST(:now AS timestamptz) - interval '3 days' AS t) AS x
UNION ALL
SELECT md5('old' || n)::uuid, md5('c' || n)::uuid, 'intro', 1, 'sent', 'email', 'intro', t, t
FROM generate_series(10, :count, 10) AS n, LATERAL (SELECT CAST(:now AS timestamptz) - interval '1 day' AS t) AS x;
"""


def _seed(engine: Engine, count: int) -> None:
    """Settings and the track through the tracks' handlers, then contacts, enrollments, timers and history."""
    uow = UnitOfWork(make_session_factory(engine))
    with uow:
        tracks.put_settings(uow, SETTINGS, by="bench", now=T0)
        tracks.create_track(uow, TRACK, by="bench", now=T0)
        tracks.activate(uow, TRACK["key"], None, by="bench", now=T0)
    with engine.begin() as connection:
        for statement in SEED.split(";"):
            if statement.strip():
                connection.execute(text(statement), {"now": NOW, "count": count})
        connection.execute(text("ANALYZE"))


def _fire(url: str, batch_size: int, ready: Any, go: Any, done: Any) -> None:
    """One scheduler process with nurture's step handler, its clock at NOW: fire until nothing is due."""
    engine = make_engine(url)
    scheduler = Scheduler(
        uow=UnitOfWork(make_session_factory(engine)),
        handlers={(OWNER, STEP_DUE): step_due(StoredTracks())},
        clock=lambda: NOW,
        owners=[OWNER],
        batch_size=batch_size,
    )
    with engine.connect() as connection:  # connected before the clock starts
        connection.execute(text("SELECT 1"))
    ready.put(os.getpid())
    go.wait()
    fired = 0
    while settled := scheduler.step():
        fired += settled
    done.put(fired)


def steps_rate(url: str, count: int, processes: int, batch_size: int) -> tuple[float, list[int], dict[str, int]]:
    """`processes` schedulers over `count` due steps: steps/s, how many each fired, the step outcomes."""
    with fresh_database(url) as engine:
        _seed(engine, count)
        url = engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("spawn")
        ready, done, go = context.Queue(), context.Queue(), context.Event()
        workers = [context.Process(target=_fire, args=(url, batch_size, ready, go, done)) for _ in range(processes)]
        for worker in workers:
            worker.start()
        for _ in workers:
            ready.get(timeout=120)
        started = time.perf_counter()
        go.set()
        fired = [done.get(timeout=1800) for _ in workers]
        elapsed = time.perf_counter() - started
        for worker in workers:
            worker.join()
        with engine.connect() as connection:
            pending = connection.scalar(
                select(func.count()).where(TimerRecord.fired_at.is_(None), TimerRecord.due_at <= NOW)
            )
            outcomes = dict(
                connection.execute(
                    select(NurtureStepRun.outcome, func.count())
                    .where(NurtureStepRun.step_id != "intro")
                    .group_by(NurtureStepRun.outcome)
                ).all()
            )
            outcomes["outbox"] = connection.scalar(select(func.count()).select_from(OutboxRecord)) or 0
        if pending or sum(fired) != count:
            raise SystemExit(f"steps/{processes}: fired {fired}, {pending} left pending")
    return count / elapsed, fired, outcomes


def lead_scored(n: int) -> bytes:
    """The bytes of a raw lead's lead.scored, with the profile nurture keeps."""
    domain = f"account{n % 10_000}.example"
    contact = uuid.UUID(int=n + 1)
    data = LeadScored(
        lead_id=contact,
        contact_id=contact,
        account_key=domain,
        stage="raw",
        fit_score=10,
        fit_grade="B",
        engagement_score=5,
        account_score=5,
        definition_version=1,
        profile=LeadProfile(email=f"person{n}@{domain}", time_zone="Europe/Paris"),
    )
    return encode(new_event(data, key=domain, time=NOW + timedelta(milliseconds=n), source="lead_scoring"))


def group_at_end(bootstrap: str, topic: str) -> str:
    """A new consumer group whose offsets stand at the end of `topic`: it reads only what is produced next (the
    event log takes lead.scored on its own topic only, which other runs and the tests have written to)."""
    group = f"bench-nurture-{uuid.uuid4().hex[:6]}"
    reader = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    partitions = [TopicPartition(topic, n) for n in sorted(reader.partitions_for_topic(topic) or ())]
    reader.assign(partitions)
    reader.commit({tp: OffsetAndMetadata(offset, None, -1) for tp, offset in reader.end_offsets(partitions).items()})
    reader.close()
    return group


def enrollment_rate(url: str, bootstrap: str, group: str, count: int, batch_size: int) -> tuple[float, int]:
    """The nurture consumer over `count` lead.scored events: events/s, enrollments made."""
    with fresh_database(url) as engine:
        uow = UnitOfWork(make_session_factory(engine))
        with uow:
            tracks.put_settings(uow, SETTINGS, by="bench", now=T0)
            tracks.create_track(uow, TRACK, by="bench", now=T0)
            tracks.activate(uow, TRACK["key"], None, by="bench", now=T0)
        handled, first, done = 0, 0.0, threading.Event()
        nurture = consumer.handlers(StoredTracks())

        def counted(events: Any, unit: UnitOfWork) -> None:
            nonlocal handled, first
            first = first or time.perf_counter()
            nurture.handle_batch(events, unit)
            handled += len(events)
            if handled >= count:
                done.set()

        loop = processor(
            KafkaEventLog(engine, bootstrap),
            group=group,
            topics=[LEADS],
            handlers=Handlers(frozenset({"leadflow.lead.scored.v1"}), counted),
            batch_size=batch_size,
        )
        stop = threading.Event()
        thread = threading.Thread(target=loop.run, args=(stop,))
        thread.start()
        done.wait()
        finished = time.perf_counter()
        stop.set()
        thread.join()
        with engine.connect() as connection:
            enrolled = connection.scalar(select(func.count()).select_from(NurtureEnrollment)) or 0
    return count / (finished - first), enrolled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--processes", default="1,2", help="scheduler process counts to measure, e.g. 1,2")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument(
        "--enrollments", type=int, help="lead.scored events for the enrollment part (default: --contacts)"
    )
    parser.add_argument("--skip-enrollment", action="store_true", help="only the steps")
    args = parser.parse_args()
    url, bootstrap = servers()
    print(f"bench/nurture: {args.contacts:,} enrolled contacts with a step due, PostgreSQL, batch {args.batch_size}")
    for processes in (int(n) for n in args.processes.split(",")):
        rate, fired, outcomes = steps_rate(url, args.contacts, processes, args.batch_size)
        label = f"steps fired, {processes} scheduler process{'es' if processes > 1 else ''}"
        shares = " + ".join(f"{n:,}" for n in fired)
        found = ", ".join(f"{name} {value:,}" for name, value in sorted(outcomes.items()))
        report([(label, f"{rate:>8,.0f} steps/s  (fired {shares}; {found})")])
    events = args.enrollments or args.contacts
    if not args.skip_enrollment:
        ensure_topics(bootstrap, [LEADS], args.partitions)
        no_op_group, nurture_group = group_at_end(bootstrap, LEADS), group_at_end(bootstrap, LEADS)
        populate(bootstrap, LEADS, events, args.partitions, make=lead_scored)
        with fresh_database(url) as engine:
            no_op_rate = eventlog_consume_rate(
                engine, bootstrap, LEADS, events, args.batch_size, "leadflow.lead.scored.v1", no_op_group
            )[0]
        rate, enrolled = enrollment_rate(url, bootstrap, nurture_group, events, args.batch_size)
        report(
            [
                (f"event log no-op consumer of {events:,} lead.scored on {LEADS}", f"{no_op_rate:>8,.0f} events/s"),
                ("nurture consumer (enrollment)", f"{rate:>8,.0f} events/s  ({enrolled:,} enrolled)"),
                ("ratio enrollment / no-op", f"{rate / no_op_rate:>8.2f}"),
            ]
        )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"  (load average when done: {load} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
