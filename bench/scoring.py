"""lead_scoring on the real broker and PostgreSQL, each figure with the issue's target:

- rescore: every lead rescored on publication (100,000 contacts in 10,000 accounts; target <= 8 s for 100,000);
- consume: the consumer's touches/s with 1 and 2 processes in a group, against the event log alone (decode, inbox,
  no-op handler) on the same topic (1 process / no-op >= 0.3; 2 processes / 1 >= 1.6);
- big-account: touches on an account of 5,000 contacts against touches on accounts of 10 (ratio >= 0.5);
- simulation: 1,000,000 stored touches loaded and simulated under a draft (bench/scoring_simulation.py).

Run: `make bench` (or `scripts/with-services .venv/bin/python bench/scoring.py [--cases rescore,consume]`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
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


def account_row(domain: str, rng: random.Random) -> dict[str, Any]:
    """An account as identify calls would have left it."""
    now = T0 - timedelta(days=1)
    return {
        "id": uuid.uuid5(NAMESPACE, f"account:domain:{domain}"),
        "key": domain,
        "domain": domain,
        "name": f"Account {domain}",
        "normalised_name": f"account {domain}",
        "attributes": {
            "industry": rng.choice(INDUSTRIES),
            "employees": rng.choice([8, 60, 400, 2500, 9000]),
            "country": rng.choice(["US", "DE", "FR", "BR"]),
        },
        "created_at": now,
        "updated_at": now,
    }


def contact_row(email: str, account: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A contact of `account` as identify calls would have left it."""
    now = T0 - timedelta(days=1)
    return {
        "id": uuid.uuid5(NAMESPACE, f"contact:{email}"),
        "email": email,
        "account_id": account["id"],
        "account_rule": "email_domain",
        "attributes": {"title": rng.choice(TITLES)},
        "pain_points": [],
        "consent": "unknown",
        "created_at": now,
        "updated_at": now,
    }


def store(engine: Engine, accounts: list[dict[str, Any]], contacts: list[dict[str, Any]]) -> None:
    """Bulk inserts of account and contact rows (identify calls would take far longer)."""
    with engine.begin() as connection:
        for start in range(0, len(accounts), 5000):
            connection.execute(insert(Account), accounts[start : start + 5000])
        for start in range(0, len(contacts), 5000):
            connection.execute(insert(Contact), contacts[start : start + 5000])


def seed_accounts(engine: Engine, accounts: int, contacts: int) -> None:
    """`contacts` contacts spread evenly over `accounts` accounts."""
    rng = random.Random(7)
    account_rows = [account_row(f"account{number}.example", rng) for number in range(accounts)]
    contact_rows = [
        contact_row(f"person{n // accounts}@account{n % accounts}.example", account_rows[n % accounts], rng)
        for n in range(contacts)
    ]
    store(engine, account_rows, contact_rows)


def touch_maker(pick: Callable[[random.Random], tuple[str, str]]) -> Callable[[int], bytes]:
    """Touches a few minutes apart, each by the contact `pick(rng)` names: (email, account domain)."""
    rng = random.Random(11)

    def make(n: int) -> bytes:
        email, domain = pick(rng)
        data = TouchRecorded(
            touch_id=uuid.uuid4(),
            contact=ContactIdentity(email=email),
            touch_type=rng.choice(TOUCH_TYPES),
            channel="web",
            content_tags=["whitepaper"] if rng.random() < 0.1 else [],
            source_system="bench",
        )
        return encode(new_event(data, key=domain, time=T0 + timedelta(seconds=30 * n), source="urn:bench"))

    return make


def spread_touches(accounts: int, contacts: int) -> Callable[[int], bytes]:
    """Touches by random contacts of the accounts `seed_accounts` made."""

    def pick(rng: random.Random) -> tuple[str, str]:
        number = rng.randrange(contacts)
        domain = f"account{number % accounts}.example"
        return f"person{number // accounts}@{domain}", domain

    return touch_maker(pick)


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


def rescore_all(engine: Engine, bootstrap: str) -> None:
    """Run the publication's rescoring job to its end, as the rescoring loop would."""
    rescorer = Rescorer(KafkaEventLog(engine, bootstrap))
    while rescorer.run_once():
        pass


CASES = ("rescore", "consume", "big-account", "simulation")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--touches", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=int(os.environ.get("LEADFLOW_BATCH_SIZE", 500)))
    parser.add_argument("--consumers", default="1,2", help="consumer process counts to measure, e.g. 1,2")
    parser.add_argument("--cases", default=",".join(CASES), help=f"which to run, of {','.join(CASES)}")
    parser.add_argument("--skip-simulation", action="store_true", help="the same as leaving simulation out of --cases")
    parser.add_argument("--simulated-touches", type=int, default=1_000_000)
    parser.add_argument("--big-account-contacts", type=int, default=5_000)
    parser.add_argument("--big-account-touches", type=int, default=2_000)
    parser.add_argument("--small-accounts", type=int, default=500, help="accounts of 10 contacts beside the big one")
    args = parser.parse_args(argv)
    cases = {case.strip() for case in args.cases.split(",") if case.strip()}
    if unknown := cases - set(CASES):
        parser.error(f"--cases: unknown {', '.join(sorted(unknown))} (choose from {', '.join(CASES)})")
    if args.skip_simulation:
        cases.discard("simulation")
    url, bootstrap = servers()
    if cases & {"rescore", "consume"}:
        report(scoring(url, bootstrap, args, consume="consume" in cases))
    if "big-account" in cases:
        from bench.scoring_big_account import measure

        big, small = args.big_account_contacts, args.small_accounts
        print(f"bench/scoring: one account of {big:,} contacts beside {small:,} accounts of 10")
        report(
            measure(
                url,
                bootstrap,
                touches=args.big_account_touches,
                big=args.big_account_contacts,
                small_accounts=args.small_accounts,
                per_small=10,
                batch_size=args.batch_size,
            )
        )
    if "simulation" in cases:
        from bench.scoring_simulation import main as simulation

        simulation(["--touches", str(args.simulated_touches)])


def scoring(url: str, bootstrap: str, args: argparse.Namespace, *, consume: bool) -> list[tuple[str, str]]:
    """The rescoring of every lead on publication; with `consume`, the consumer's rates beside the event log's."""
    print(f"bench/scoring: {args.contacts:,} contacts in {args.accounts:,} accounts, {args.touches:,} touches")
    rows: list[tuple[str, str]] = []
    with fresh_database(url) as template:
        seed_accounts(template, args.accounts, args.contacts)
        publish_example(template)
        started = time.perf_counter()
        rescore_all(template, bootstrap)
        seconds = time.perf_counter() - started
        per_100k = seconds * 100_000 / args.contacts
        rows.append((f"rescore {args.contacts:,} leads on publication", f"{seconds:>10,.1f} s"))
        rows.append(("  for 100,000 leads at that rate (target <= 8 s)", f"{per_100k:>10,.1f} s"))
        template.dispose()
        if not consume:
            return rows
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        topic = prefix + "leadflow.touches"
        populate(bootstrap, topic, args.touches, args.partitions, make=spread_touches(args.accounts, args.contacts))
        raw_rate = raw_consume_rate(bootstrap, topic, args.touches)
        with fresh_database(url) as engine:
            ceiling, _ = eventlog_consume_rate(engine, bootstrap, topic, args.touches, args.batch_size)
        rows += [
            ("raw kafka-python consume (same topic, median of 3 reads)", f"{raw_rate:>10,.0f} touches/s"),
            (f"event log alone: decode + inbox + no-op (batch {args.batch_size})", f"{ceiling:>10,.0f} touches/s"),
        ]
        rates: dict[int, float] = {}
        for consumers in (int(number) for number in args.consumers.split(",")):
            with fresh_database(url, template=template.url.database) as engine:
                database = engine.url.render_as_string(hide_password=False)
                rates[consumers] = scoring_consume_rate(
                    database, bootstrap, prefix, args.touches, args.batch_size, consumers
                )
            label = f"lead_scoring, {consumers} consumer process{'es' if consumers > 1 else ''} (PostgreSQL)"
            rows.append((label, f"{rates[consumers]:>10,.0f} touches/s"))
    if 1 in rates:
        rows.append(("  ratio 1 process / event log no-op (target >= 0.3)", f"{rates[1] / ceiling:>10.3f}"))
        rows.append(("  ratio 1 process / raw kafka-python", f"{rates[1] / raw_rate:>10.3f}"))
    if 1 in rates and 2 in rates:
        rows.append(("  ratio 2 processes / 1 (target >= 1.6)", f"{rates[2] / rates[1]:>10.3f}"))
    return rows


if __name__ == "__main__":
    main()
