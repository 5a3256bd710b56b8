"""The handoff consumer on the real broker and PostgreSQL: lead.qualified in, each handoff routed (200 reps in 20
teams, weighted round robin) and persisted with its dossier, decision, timers and events; beside the event
log's no-op consumer of the same topic, in the same run.

Run: `scripts/with-services .venv/bin/python bench/handoff.py --events 20000`.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import text

from bench.common import T0, fresh_database, populate, report, servers
from eventlog.backends import KafkaEventLog, SqlEventLog, processor
from eventlog.processor import Handlers
from events.catalog import LeadQualified
from events.catalog.common import TouchSummary
from events.catalog.leads import AccountSummary, CommitteeMember, ContactSummary, RuleHit, Score
from events.registry import encode, new_event
from events.topics import LEADS
from services.handoff.intake.handlers import TYPES, handle_batch
from services.handoff.org import handlers as org_handlers
from services.handoff.org.document import parse_document

COUNTRIES = [
    "DE",
    "FR",
    "GB",
    "ES",
    "IT",
    "NL",
    "SE",
    "PL",
    "AT",
    "CH",
    "US",
    "CA",
    "BR",
    "MX",
    "JP",
    "AU",
    "IN",
    "SG",
    "BE",
    "DK",
]
WEEKDAYS = {day: ["08:00-20:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def sales_org(teams: int = 20, reps_per_team: int = 9) -> dict[str, Any]:
    """A routing document: `teams` teams of a manager and `reps_per_team` reps, one country each, a catch-all."""
    reps: list[dict[str, Any]] = []
    team_specs: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    for number in range(teams):
        name = f"team{number:02d}"
        manager = f"manager{number:02d}@sales.example"
        team_specs.append({"name": name, "manager": manager, "region": COUNTRIES[number]})
        reps.append({"email": manager, "name": f"Manager {number}", "team": name, "role": "manager", "calendar": "cal"})
        for rep in range(reps_per_team):
            reps.append(
                {
                    "email": f"rep{number:02d}-{rep}@sales.example", "name": f"Rep {number}-{rep}", "team": name,
                    "calendar": "cal", "weight": 1 + rep % 3, "max_open": 10_000, "max_new_per_day": 10_000,
                }
            )  # fmt: skip
        rules.append(
            {"name": f"country {COUNTRIES[number]}", "conditions": [{"field": "country", "eq": COUNTRIES[number]}],
             "target": {"kind": "pool", "team": name}}
        )  # fmt: skip
    rules.append({"name": "everyone else", "target": {"kind": "pool", "team": "team00"}})
    calendars = {"cal": {"time_zone": "Europe/Berlin", "working_hours": WEEKDAYS}}
    return {"calendars": calendars, "teams": team_specs, "reps": reps, "rules": rules}


def lead_qualified(n: int) -> bytes:
    """The bytes of a realistic lead.qualified: account, two committee members, five touches, five rule hits."""
    lead, account = uuid.uuid5(uuid.NAMESPACE_URL, f"lead:{n}"), uuid.uuid5(uuid.NAMESPACE_URL, f"acct:{n}")
    at = T0 + timedelta(seconds=n)
    country = COUNTRIES[n % len(COUNTRIES)]
    domain = f"account{n}.example"
    members = [
        CommitteeMember(contact_id=uuid.uuid5(lead, str(k)), email=f"m{k}@{domain}", name=f"Member {k}",
                        buying_role=["decision_maker", "influencer"][k], stage="engaged", engagement_score=20.0 + k)
        for k in range(2)
    ]  # fmt: skip
    data = LeadQualified(
        lead_id=lead, contact_id=lead, account_id=account, account_key=str(account), qualification_cycle=1,
        reason="criteria", definition_version=1,
        contact=ContactSummary(contact_id=lead, email=f"dana{n}@{domain}", first_name="Dana", last_name="W",
                               title="VP Operations", country=country),
        account=AccountSummary(account_id=account, name=f"Account {n}", domain=domain, industry="manufacturing",
                               employees=50 + n % 5000, country=country, engaged_contacts=3),
        buying_committee=members,
        score=Score(fit_score=60, fit_grade="AB"[n % 2], engagement_score=45, account_score=80, definition_version=1,
                    breakdown=[RuleHit(rule_id=f"fit.r{k}", kind="fit", label=f"Rule {k}", points=10,
                                       decayed_points=10) for k in range(5)]),
        recent_touches=[TouchSummary(touch_id=uuid.uuid5(lead, f"t{k}"), occurred_at=at - timedelta(hours=k),
                                     touch_type="webinar_attended", channel="webinar", points=5) for k in range(5)],
    )  # fmt: skip
    return encode(new_event(data, key=str(account), time=at, source="bench"))


def consume_rate(
    engine, bootstrap: str, prefix: str, count: int, handlers: Handlers, batch_size: int
) -> tuple[float, float]:
    """Events per second a consumer group with `handlers` takes from `topic`, first handled to last, and the
    consumer thread's CPU milliseconds per event inside the handler (steadier than the rate on a busy machine)."""
    handled, first, cpu = 0, None, 0.0

    def counting(events: Sequence[Any], uow) -> None:
        nonlocal handled, first, cpu
        if first is None:
            first = time.perf_counter()
        started = time.thread_time()
        handlers.handle_batch(events, uow)
        cpu += time.thread_time() - started
        handled += len(events)  # counted before the commit: the last commit is waited for below

    group = f"bench-{uuid.uuid4().hex[:6]}"
    loop = processor(KafkaEventLog(engine, bootstrap, topic_prefix=prefix), group=group, topics=[LEADS],
                     handlers=Handlers(handlers.types, counting), batch_size=batch_size)  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    with engine.connect() as connection:
        while (
            connection.execute(text("SELECT count(*) FROM eventlog.inbox WHERE consumer_group = :g"), {"g": group})
        ).scalar_one() < count:
            connection.commit()
            if not thread.is_alive():
                raise SystemExit(f"the consumer {group} stopped")
            time.sleep(0.05)
    finished = time.perf_counter()
    stop.set()
    thread.join()
    assert first is not None
    return count / (finished - first), cpu * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    url, bootstrap = servers()
    prefix = f"bench{uuid.uuid4().hex[:8]}."  # the events travel on their own topic, leadflow.leads, prefixed
    topic = prefix + LEADS
    print(f"bench/handoff: {args.events:,} lead.qualified events on {topic} ({args.partitions} partitions)")
    produce_rate = populate(bootstrap, topic, args.events, args.partitions, make=lead_qualified)
    no_op = Handlers(TYPES, lambda events, uow: None)
    with fresh_database(url) as engine:
        with SqlEventLog(engine).unit_of_work() as uow:
            org_handlers.save_document(uow, parse_document(sales_org()), actor="bench", role="sales_ops", now=T0)
        log_rate, _ = consume_rate(engine, bootstrap, prefix, args.events, no_op, args.batch_size)
        handoff_rate, handler_cpu = consume_rate(
            engine, bootstrap, prefix, args.events, Handlers(TYPES, handle_batch), args.batch_size
        )
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT count(*), count(DISTINCT rep_id) FROM handoff.handoff WHERE status = 'assigned'")
            ).one()
    report(
        [
            ("producer (kafka-python, to populate)", f"{produce_rate:>10,.0f} events/s"),
            (f"event log no-op consumer (inbox, PostgreSQL, batch {args.batch_size})", f"{log_rate:>10,.0f} events/s"),
            ("handoff consumer (projection, route, persist, timers, events)", f"{handoff_rate:>10,.0f} handoffs/s"),
            ("ratio handoff / no-op", f"{handoff_rate / log_rate:>10.2f}"),
            ("handler CPU (consumer thread, in handle_batch)", f"{handler_cpu:>10.2f} ms/handoff"),
            ("handoffs assigned, reps who got some", f"{rows[0]:>10,}  {rows[1]:,}"),
        ]
    )


if __name__ == "__main__":
    main()
