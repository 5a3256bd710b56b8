"""lead_scoring with one account of 5,000 contacts beside accounts of 10: touches on the big account's contacts
against touches on accounts of 10, each stream through one consumer process on the real broker and PostgreSQL.

Every touch rescores its whole account, so the big account's touches cost what its 5,000 contacts cost; the issue's
target is a rate at least half the small accounts' (ratio >= 0.5). Run by bench/scoring.py (`--cases big-account`).
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from sqlalchemy import Engine

from bench.common import fresh_database, populate
from bench.scoring import (
    account_row,
    contact_row,
    publish_example,
    rescore_all,
    scoring_consume_rate,
    store,
    touch_maker,
)

BIG = "big-account.example"


def seed(engine: Engine, big: int, small_accounts: int, per_small: int) -> None:
    """One account of `big` contacts and `small_accounts` accounts of `per_small` contacts."""
    rng = random.Random(5)
    accounts = [account_row(BIG, rng), *(account_row(f"small{n}.example", rng) for n in range(small_accounts))]
    contacts = [contact_row(f"person{n}@{BIG}", accounts[0], rng) for n in range(big)]
    contacts += [
        contact_row(f"person{n}@small{index}.example", account, rng)
        for index, account in enumerate(accounts[1:])
        for n in range(per_small)
    ]
    store(engine, accounts, contacts)


def measure(
    url: str, bootstrap: str, *, touches: int, big: int, small_accounts: int, per_small: int, batch_size: int
) -> list[tuple[str, str]]:
    """The rates of touches on the big account and on the small ones, one consumer process each, and their ratio."""

    def on_big(rng: random.Random) -> tuple[str, str]:
        return f"person{rng.randrange(big)}@{BIG}", BIG

    def on_small(rng: random.Random) -> tuple[str, str]:
        domain = f"small{rng.randrange(small_accounts)}.example"
        return f"person{rng.randrange(per_small)}@{domain}", domain

    rates: dict[str, float] = {}
    with fresh_database(url) as template:
        seed(template, big, small_accounts, per_small)
        publish_example(template)
        started = time.perf_counter()
        rescore_all(template, bootstrap)  # the leads exist before the touches, as in bench/scoring.py
        print(
            f"  big account set-up: {big + small_accounts * per_small:,} leads scored in "
            f"{time.perf_counter() - started:.1f} s"
        )
        template.dispose()
        for name, pick in (("big", on_big), ("small", on_small)):
            prefix = f"bench{uuid.uuid4().hex[:6]}."
            populate(bootstrap, prefix + "leadflow.touches", touches, 4, make=touch_maker(pick))
            with fresh_database(url, template=template.url.database) as engine:
                database = engine.url.render_as_string(hide_password=False)
                rates[name] = scoring_consume_rate(database, bootstrap, prefix, touches, batch_size, 1)
    ratio = rates["big"] / rates["small"]
    rows: list[tuple[str, Any]] = [
        (f"touches on the account of {big:,} contacts, 1 process", f"{rates['big']:>10,.0f} touches/s"),
        (f"touches on accounts of {per_small} contacts, 1 process", f"{rates['small']:>10,.0f} touches/s"),
        ("  ratio big / small (target >= 0.5)", f"{ratio:>10.3f}"),
    ]
    return rows
