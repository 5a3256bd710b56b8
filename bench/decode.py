"""Decoding alone: the microseconds `events.registry.decode` takes per event, beside plain JSON parsing.

No broker or database: the events are those bench/eventlog.py and bench/scoring.py produce (small touches of
`--contacts` people in `--accounts` accounts), each decoded once in a pass as a consumer meets them, so the caches
start cold; then the committed example of each event type. Figures are the thread's CPU time (the best of
`--passes` passes), which other processes on the machine disturb less than the wall clock.

Run: `.venv/bin/python bench/decode.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pydantic_core import from_json

from bench.common import T0, report
from events.catalog import TouchRecorded
from events.catalog.common import ContactIdentity
from events.emails import ascii_domain, email_parts
from events.registry import decode, encode, new_event

ROOT = Path(__file__).resolve().parent.parent


def touches(count: int, contacts: int, accounts: int) -> list[bytes]:
    """`count` small touch.recorded events of `contacts` people spread over `accounts` accounts, in random order."""
    chosen = random.Random(7)
    events = []
    for n in range(count):
        person = chosen.randrange(contacts)
        domain = f"account{person % accounts}.example"
        data = TouchRecorded(
            touch_id=uuid.uuid4(),
            contact=ContactIdentity(email=f"person{person}@{domain}"),
            touch_type="page_view",
            channel="web",
            source_system="bench",
        )
        events.append(encode(new_event(data, key=domain, time=T0 + timedelta(seconds=n), source="bench")))
    return events


def examples() -> list[bytes]:
    """The committed example of every event type, each with a new id."""
    documents = []
    for path in sorted((ROOT / "contracts/examples").glob("*.json")):
        document = json.loads(path.read_text())
        document["id"] = str(uuid.uuid4())
        documents.append(json.dumps(document).encode())
    return documents


def per_event_us(function: Callable[[bytes], Any], raws: list[bytes], passes: int, cold: bool) -> float:
    """The best pass's thread CPU time per event, in microseconds; with `cold`, the email caches start empty."""
    best = float("inf")
    for _ in range(passes):
        if cold:
            for cached in (email_parts, ascii_domain):
                getattr(cached, "cache_clear", lambda: None)()  # absent in versions without the caches
        started = time.thread_time()
        for raw in raws:
            function(raw)
        best = min(best, time.thread_time() - started)
    return best / len(raws) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    small = touches(args.events, args.contacts, args.accounts)
    every_type = examples() * max(1, 5_000 // len(examples()))
    print(f"bench/decode: {args.events:,} touches of {args.contacts:,} contacts in {args.accounts:,} accounts")
    report(
        [
            (
                "touches: JSON parse only (pydantic_core.from_json)",
                f"{per_event_us(from_json, small, args.passes, True):6.1f} us",
            ),
            ("touches: decode, caches cold at each pass", f"{per_event_us(decode, small, args.passes, True):6.1f} us"),
            ("touches: decode, caches warm", f"{per_event_us(decode, small, args.passes, False):6.1f} us"),
            (
                "contract examples (every type): decode",
                f"{per_event_us(decode, every_type, args.passes, False):6.1f} us",
            ),
        ]
    )


if __name__ == "__main__":
    main()
