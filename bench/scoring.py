"""lead_scoring on the real broker and PostgreSQL: the consumer's touches/s beside raw kafka-python on the same
topic, with 100,000 contacts in 10,000 accounts; then the simulation of 1,000,000 stored touches under a draft.

Run: `make bench` (or `scripts/with-services .venv/bin/python bench/scoring.py`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml
from sqlalchemy import Engine, func, insert, select

from auth.tokens import Principal
from bench.common import fresh_database, populate, raw_consume_rate, report, servers
from bench.eventlog import eventlog_consume_rate
from database.engine import make_engine
from eventlog.backends import KafkaEventLog, processor
from eventlog.models import InboxRecord
from events.catalog import TouchRecorded
from events.catalog.common import ContactIdentity
from events.registry import encode, new_event
from services.lead_scoring.definitions import commands as definitions
from services.lead_scoring.leads.handlers import handlers
from services.lead_scoring.leads.rescoring import Rescorer
from services.lead_scoring.matching.resolve import NAMESPACE
from services.lead_scoring.models import Account, Contact

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 6, 1, tzinfo=UTC)
INDUSTRIES = ["software", "manufacturing", "logistics", "retail", "healthcare", "education"]
TITLES = ["VP Operations", "Director of IT", "Head of Supply Chain", "Engineer", "Analyst", "CFO", "Intern"]
TOUCH_TYPES = ["page_view"] * 6 + ["email_open"] * 4 + ["content_download", "webinar_attended", "pricing_page_view"]


def publish_example(engine: Engine) -> None:
    """Publish config/lead_definition.example.yaml, approved by both sides."""
    log = KafkaEventLog(engine, "unused:9092")
    document = yaml.safe_load((ROOT / "config/lead_definition.example.yaml").read_text())
    now = T0 - timedelta(days=1)
    marketing, sales = Principal("bench-mops", "marketing_ops"), Principal("bench-sops", "sales_ops")
    with log.unit_of_work() as uow:
        row = definitions.create_draft(uow, document=document, actor=marketing, now=now)
    for actor in (marketing, sales):
        with log.unit_of_work() as uow:
            definitions.approve_draft(uow, definition_id=row.id, revision=1, actor=actor, now=now)
    with log.unit_of_work() as uow:
        definitions.publish_draft(uow, definition_id=row.id, actor=sales, now=now)


def seed_accounts(engine: Engine, accounts: int, contacts: int) -> None:
    """Accounts and contacts as identify calls would have left them (bulk, to save time)."""
    rng = random.Random(7)
    now = T0 - timedelta(days=1)
    account_rows, contact_rows = [], []
    for number in range(accounts):
        domain = f"account{number}.example"
        account_rows.append(
            {
                "id": uuid.uuid5(NAMESPACE, f"account:domain:{domain}"),
                "key": domain,
                "domain": domain,
                "name": f"Account {number}",
                "normalised_name": f"account {number}",
                "attributes": {
                    "industry": rng.choice(INDUSTRIES),
                    "employees": rng.choice([8, 60, 400, 2500, 9000]),
                    "country": rng.choice(["US", "DE", "FR", "BR"]),
                },
                "created_at": now,
                "updated_at": now,
            }
        )
    for number in range(contacts):
        email = f"person{number // accounts}@account{number % accounts}.example"
        contact_rows.append(
            {
                "id": uuid.uuid5(NAMESPACE, f"contact:{email}"),
                "email": email,
                "account_id": account_rows[number % accounts]["id"],
                "account_rule": "email_domain",
                "attributes": {"title": rng.choice(TITLES)},
                "pain_points": [],
                "consent": "unknown",
                "created_at": now,
                "updated_at": now,
            }
        )
    with engine.begin() as connection:
        for start in range(0, len(account_rows), 5000):
            connection.execute(insert(Account), account_rows[start : start + 5000])
        for start in range(0, len(contact_rows), 5000):
            connection.execute(insert(Contact), contact_rows[start : start + 5000])


def touch_maker(accounts: int, contacts: int):
    """Touches by random contacts of the seeded accounts, a few minutes apart."""
    rng = random.Random(11)

    def make(n: int) -> bytes:
        number = rng.randrange(contacts)
        domain = f"account{number % accounts}.example"
        data = TouchRecorded(
            touch_id=uuid.uuid4(),
            contact=ContactIdentity(email=f"person{number // accounts}@{domain}"),
            touch_type=rng.choice(TOUCH_TYPES),
            channel="web",
            content_tags=["whitepaper"] if rng.random() < 0.1 else [],
            source_system="bench",
        )
        return encode(new_event(data, key=domain, time=T0 + timedelta(seconds=30 * n), source="urn:bench"))

    return make


def _consume(url: str, bootstrap: str, prefix: str, group: str, batch_size: int, stop: Any) -> None:
    """One lead_scoring consumer process, as `leadflow run lead-scoring` runs it."""
    engine = make_engine(url)
    log = KafkaEventLog(engine, bootstrap, topic_prefix=prefix)
    loop = processor(log, group=group, topics=["leadflow.touches"], handlers=handlers(), batch_size=batch_size)
    loop.run(stop)


def scoring_consume_rate(url: str, bootstrap: str, prefix: str, count: int, batch_size: int, consumers: int) -> float:
    """`consumers` lead_scoring processes in one group over `count` touches, in touches/s (timed, as the raw rate
    is, from the first touch handled: joining the group is not consuming)."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    group = f"lead_scoring-{consumers}"  # a group of its own per measurement: each reads the topic from the start
    workers = [
        context.Process(target=_consume, args=(url, bootstrap, prefix, group, batch_size, stop))
        for _ in range(consumers)
    ]
    for worker in workers:
        worker.start()
    engine = make_engine(url)
    first: tuple[float, int] | None = None
    try:
        while True:
            with engine.connect() as connection:
                done = connection.scalar(select(func.count()).select_from(InboxRecord)) or 0
            now = time.perf_counter()
            if first is None and done:
                first = (now, done)
            if done >= count:
                break
            if not all(worker.is_alive() for worker in workers):
                raise SystemExit("a consumer process died")
            time.sleep(0.2)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        engine.dispose()
    assert first is not None
    return (count - first[1]) / (now - first[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--touches", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=int(os.environ.get("LEADFLOW_BATCH_SIZE", 500)))
    parser.add_argument("--consumers", default="1,2", help="consumer process counts to measure, e.g. 1,2")
    parser.add_argument("--skip-simulation", action="store_true")
    parser.add_argument("--simulated-touches", type=int, default=1_000_000)
    args = parser.parse_args()
    url, bootstrap = servers()
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    topic = prefix + "leadflow.touches"
    print(
        f"bench/scoring: {args.contacts:,} contacts in {args.accounts:,} accounts, {args.touches:,} touches on {topic}"
    )
    populate(bootstrap, topic, args.touches, args.partitions, make=touch_maker(args.accounts, args.contacts))
    raw_rate = raw_consume_rate(bootstrap, topic, args.touches)
    with fresh_database(url) as engine:
        ceiling, _ = eventlog_consume_rate(engine, bootstrap, topic, args.touches, args.batch_size)
    rows = [
        ("raw kafka-python consume (same topic, median of 3 reads)", f"{raw_rate:>10,.0f} touches/s"),
        (f"event log alone: decode + inbox + no-op (batch {args.batch_size})", f"{ceiling:>10,.0f} touches/s"),
    ]
    with fresh_database(url) as template:
        seed_accounts(template, args.accounts, args.contacts)
        publish_example(template)
        started = time.perf_counter()
        rescorer = Rescorer(KafkaEventLog(template, bootstrap))
        while rescorer.run_once():
            pass
        rescore_s = time.perf_counter() - started
        rows.insert(
            0,
            (
                f"rescore {args.contacts:,} leads on publication",
                f"{rescore_s:>10,.1f} s ({args.contacts / rescore_s:,.0f}/s)",
            ),
        )
        template.dispose()
        for consumers in (int(number) for number in args.consumers.split(",")):
            with fresh_database(url, template=template.url.database) as engine:
                rate = scoring_consume_rate(
                    engine.url.render_as_string(hide_password=False),
                    bootstrap,
                    prefix,
                    args.touches,
                    args.batch_size,
                    consumers,
                )
            label = f"lead_scoring, {consumers} consumer process{'es' if consumers > 1 else ''} (PostgreSQL)"
            rows += [
                (label, f"{rate:>10,.0f} touches/s"),
                ("  ratio to raw (target >= 0.3)", f"{rate / raw_rate:>10.3f}"),
            ]
    report(rows)
    if not args.skip_simulation:
        from bench.scoring_simulation import main as simulation

        simulation(["--touches", str(args.simulated_touches)])


if __name__ == "__main__":
    main()
