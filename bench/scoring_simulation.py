"""Simulating a draft lead definition on stored history: 1,000,000 touches of 100,000 contacts in 10,000 accounts.

Stores a synthetic 180-day history into a fresh PostgreSQL database (bulk Core inserts), then times loading it
(services/lead_scoring/simulation/repository.py) and replaying it under a draft, the example definition
(services/lead_scoring/simulation/runner.py). Target (issue 3): simulating 1,000,000 stored touches in at most 30 s.

Run: `eval "$(scripts/test-services start)"; .venv/bin/python bench/scoring_simulation.py`
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import yaml
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bench.common import T0, fresh_database, report, servers
from services.lead_scoring.definitions.document import load_definition
from services.lead_scoring.models import Account, Contact, SalesOutcome, Touch
from services.lead_scoring.simulation.repository import load_history
from services.lead_scoring.simulation.runner import compare, paused_collection, simulate

ROOT = Path(__file__).resolve().parents[1]
DAYS = 180
INDUSTRIES = {"software": 25, "manufacturing": 20, "logistics": 12, "retail": 10, "wholesale": 5, "finance": 10}
INDUSTRIES |= {"healthcare": 8, "education": 5, "government": 5}
COUNTRIES = {"US": 35, "DE": 15, "GB": 12, "FR": 10, "NL": 5, "SE": 4, "BR": 6, "IN": 8, "JP": 5}
TITLES = {
    "VP Operations": 6, "Director of IT": 6, "Head of Logistics": 4, "Director, Supply Chain": 3, "CEO": 3,
    "CTO": 2, "Operations Manager": 15, "IT Manager": 12, "Software Engineer": 15, "Marketing Manager": 12,
    "Analyst": 14, "Student": 2, "Intern": 2,
}  # fmt: skip
ROLES = {None: 79, "decision_maker": 8, "champion": 8, "influencer": 5}
# (touch type, channel, tags, source system, weight): what a B2B SaaS seller's marketing stack records.
TOUCHES: list[tuple[str, str, tuple[str, ...], str, float]] = [
    ("page_view", "web", (), "segment", 34),
    ("page_view", "organic", ("blog",), "segment", 8),
    ("page_view", "paid_social", (), "segment", 4),
    ("page_view", "web", ("careers",), "segment", 2),
    ("page_view", "web", ("bofu",), "segment", 3),
    ("pricing_page_view", "web", (), "segment", 4),
    ("email_open", "email", (), "mautic", 20),
    ("email_click", "email", (), "mautic", 8),
    ("email_bounce", "email", (), "mautic", 0.5),
    ("content_download", "web", ("whitepaper",), "mautic", 4),
    ("content_download", "web", ("guide", "bofu"), "mautic", 1.5),
    ("webinar_registered", "webinar", (), "mautic", 3),
    ("webinar_attended", "webinar", (), "mautic", 2),
    ("event_badge_scan", "events", (), "salesforce", 1),
    ("demo_request", "web", (), "segment", 0.4),
    ("contact_sales", "web", (), "segment", 0.15),
    ("unsubscribe", "email", (), "mautic", 0.3),
]
CAMPAIGNS = [None, None, "q1-webinar-series", "spring-launch", "abm-tier1", "retargeting", "newsletter"]
REJECTIONS = ["bad_timing", "no_budget", "wrong_contact", "not_a_fit", "duplicate"]


def _pick(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def generate(
    seed: int = 7, accounts: int = 10_000, contacts: int = 100_000, touches: int = 1_000_000
) -> dict[str, list[dict[str, Any]]]:
    """Rows of the account, contact, touch and sales_outcome tables: a plausible, repeatable 180-day history."""
    rng = random.Random(seed)
    account_rows = []
    for number in range(accounts):
        domain = f"account{number}.example"
        traits = {
            "industry": _pick(rng, INDUSTRIES),
            "employees": max(1, int(rng.lognormvariate(5.0, 1.6))),
            "country": _pick(rng, COUNTRIES),
            "is_customer": rng.random() < 0.04,
        }
        account_rows.append(
            {"id": _id(rng), "key": domain, "domain": domain, "name": f"Account {number}", "normalised_name":
             f"account {number}", "attributes": traits, "created_at": T0, "updated_at": T0}
        )  # fmt: skip
    # Account sizes vary (a few large accounts, many small ones); 4% of people use free mail and have none.
    weights = [rng.lognormvariate(0, 0.8) for _ in account_rows]
    homes = rng.choices(range(accounts), weights=weights, k=contacts)
    contact_rows = []
    for number, home in enumerate(homes):
        free_mail = rng.random() < 0.04
        email = (
            None if rng.random() < 0.02 else f"p{number}@{'gmail.com' if free_mail else account_rows[home]['domain']}"
        )
        attributes: dict[str, Any] = {"title": _pick(rng, TITLES)}
        if rng.random() < 0.3:
            attributes["marketing_consent"] = True
        contact_rows.append(
            {"id": _id(rng), "email": email, "account_id": None if free_mail else account_rows[home]["id"],
             "account_rule": "none" if free_mail else "email_domain", "attributes": attributes,
             "buying_role": _pick(rng, ROLES), "pain_points": [], "consent": "unknown", "created_at": T0,
             "updated_at": T0}
        )  # fmt: skip
    # Activity is heavy-tailed and comes in sessions: most people do little, a few do a lot in bursts.
    activity = [rng.lognormvariate(0, 1.1) for _ in contact_rows]
    owners = rng.choices(range(contacts), weights=activity, k=touches)
    sessions: dict[int, list[float]] = {}
    kinds = rng.choices(TOUCHES, weights=[kind[4] for kind in TOUCHES], k=touches)
    touch_rows = []
    for owner, (touch_type, channel, tags, source, _) in zip(owners, kinds, strict=True):
        days = sessions.setdefault(owner, [])
        if not days or rng.random() < 0.25:
            days.append(rng.uniform(0, DAYS - 0.2))
        moment = T0 + timedelta(days=rng.choice(days), seconds=rng.uniform(0, 3 * 3600))
        contact = contact_rows[owner]
        if touch_type == "unsubscribe":
            contact["consent"] = "unsubscribed"
        touch_rows.append(
            {"id": _id(rng), "contact_id": contact["id"], "account_id": contact["account_id"],
             "occurred_at": moment.replace(microsecond=moment.microsecond // 1000 * 1000), "touch_type": touch_type,
             "channel": channel, "campaign": rng.choice(CAMPAIGNS), "content_id": None, "content_tags": list(tags),
             "source_system": source, "url": None}
        )  # fmt: skip
    outcome_rows = []
    for contact in rng.sample(contact_rows, k=contacts // 25):
        at = T0 + timedelta(days=rng.uniform(10, DAYS))
        senior = any(word in contact["attributes"]["title"] for word in ("VP", "Director", "Head", "C"))
        if rng.random() < (0.75 if senior else 0.35):
            outcome_rows.append(_outcome(rng, contact, "accepted", at))
            if rng.random() < 0.4:
                closed = "won" if rng.random() < 0.35 else "lost"
                outcome_rows.append(_outcome(rng, contact, closed, at + timedelta(days=rng.uniform(5, 60))))
        else:
            outcome_rows.append(_outcome(rng, contact, "rejected", at, rng.choice(REJECTIONS)))
    return {"account": account_rows, "contact": contact_rows, "touch": touch_rows, "sales_outcome": outcome_rows}


def _outcome(
    rng: random.Random, contact: dict[str, Any], outcome: str, at: Any, reason: str | None = None
) -> dict[str, Any]:
    return {"event_id": _id(rng), "contact_id": contact["id"], "outcome": outcome, "reason": reason, "at": at}


def store(engine: Any, rows: dict[str, list[dict[str, Any]]], chunk: int = 20_000) -> None:
    """Bulk Core inserts of the generated rows, parents first."""
    tables = {"account": Account, "contact": Contact, "touch": Touch, "sales_outcome": SalesOutcome}
    with engine.begin() as connection:
        for name, model in tables.items():
            for first in range(0, len(rows[name]), chunk):
                connection.execute(insert(model), rows[name][first : first + chunk])


def stricter(document: dict[str, Any]) -> dict[str, Any]:
    """A stricter draft: more engagement, and hand-raisers with a B fit at least."""
    draft = {**document, "mql": {**document["mql"], "min_engagement_score": 60}}
    draft["hand_raisers"] = [{**rule, "min_fit_grade": "B"} for rule in document["hand_raisers"]]
    return draft


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--touches", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    url, _ = servers()
    document = yaml.safe_load((ROOT / "config/lead_definition.example.yaml").read_text())
    draft = load_definition(yaml.safe_dump(document))
    started = time.perf_counter()
    rows = generate(accounts=args.touches // 100, contacts=args.touches // 10, touches=args.touches)
    generated = time.perf_counter() - started
    end = T0 + timedelta(days=DAYS)
    with fresh_database(url) as engine:
        started = time.perf_counter()
        store(engine, rows)
        stored = time.perf_counter() - started
        del rows
        with paused_collection():  # as the API holds it: until the history is dropped
            started = time.perf_counter()
            with Session(engine) as session:
                history = load_history(session, end=end)
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            result = simulate(draft, history, start=T0, end=end, workers=args.workers)
            simulated = time.perf_counter() - started
            started = time.perf_counter()
            strict = simulate(
                load_definition(yaml.safe_dump(stricter(document))), history, start=T0, end=end, workers=args.workers
            )
            comparison = compare(result, strict, history.outcomes())
            compared = time.perf_counter() - started
            del history
    touches = result.touches
    print(f"simulation of a draft on stored history ({touches:,} touches, {args.workers} worker processes):")
    report(
        [
            ("generate / store (bulk Core inserts)", f"{generated:.1f} s / {stored:.1f} s"),
            ("load history (Core selects)", f"{loaded:.1f} s"),
            ("simulate under the draft", f"{simulated:.1f} s ({touches / simulated:,.0f} touches/s)"),
            ("load + simulate (target <= 30 s)", f"{loaded + simulated:.1f} s"),
            ("account evaluations", f"{result.evaluations:,}"),
            ("MQLs (leads)", f"{len(result.qualifications):,} ({len(result.qualified_leads()):,})"),
        ]
    )
    print(f"a stricter draft against it ({compared:.1f} s to simulate and compare):")
    for name, quality in (("example", comparison.published), ("stricter", comparison.draft)):
        assert quality is not None
        rates = ", ".join(
            f"{label} {value:.0%}" if value is not None else f"{label} -"
            for label, value in (
                ("acceptance", quality.acceptance_rate),
                ("win", quality.win_rate),
                ("precision", quality.precision),
                ("recall", quality.recall),
            )
        )
        print(f"  {name:<8}  {quality.mqls:,} MQLs; {rates}")
    print(f"  newly qualified {len(comparison.newly_qualified):,}, dropped {len(comparison.dropped):,}")


if __name__ == "__main__":
    main()
