"""Fuzzing the consumer with whatever a producer can send, on a real broker and on the SQL log.

Hypothesis makes records of every kind (tombstones; null, binary and 10,000-byte keys; random headers; values from
0 bytes to the broker's limit; CloudEvents with extreme strings, numbers and times; valid events of other types)
and interleaves them with good touches. One consumer runs through all of it. Afterwards every good touch was
handled exactly once, every other record was handled or is in the dead-letter table with a reason and its original
bytes, and the consumer is still running. CI runs a bounded number of rounds; `make fuzz` runs many more
(LEADFLOW_FUZZ_ROUNDS).
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from eventlog.models import DeadLetter
from events.registry import REGISTRY, encode
from events.topics import TOUCHES
from tests.eventlog.harness import Harness, effect, touch

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("LEADFLOW_FUZZ_ROUNDS", "16"))
# Valid events of the types other topics carry: each must be dead-lettered as wrong_topic.
OTHER_TYPES = [
    path.read_bytes()
    for path in sorted((ROOT / "contracts/examples").glob("*.json"))
    if REGISTRY[path.stem].topic != TOUCHES
]
TOUCH_EXAMPLE = json.loads((ROOT / "contracts/examples/leadflow.touch.recorded.v1.json").read_text())
KNOWN_REASONS = {"tombstone", "malformed", "schema_violation", "unknown_type", "wrong_topic", "handler_error"}

_seq = iter(range(10**9))  # good touches are numbered across rounds, so each is recognised once handled

extreme_text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=300, max_size=400),
    st.just("\x00"),
    st.builds(lambda n: "x" * n, st.sampled_from([64, 65, 200, 201, 320, 321, 10_000])),
)
extreme_number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**31, 2**63, -1, 0]),
)
extreme_time = st.sampled_from(
    ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59Z", "2026-11-02T09:00:00+14:00", "now"]
)


@st.composite
def extreme_touch(draw: st.DrawFn) -> bytes:
    """A touch.recorded CloudEvent with one field pushed to an extreme: valid or not, the consumer decides."""
    event: dict[str, Any] = json.loads(json.dumps(TOUCH_EXAMPLE))
    event["id"] = str(uuid.uuid4())
    event["data"]["touch_id"] = str(uuid.uuid4())
    event["data"]["properties"] = {"seq": -1}
    field = draw(st.sampled_from(["channel", "campaign", "content_id", "source_system", "url", "touch_type"]))
    choice = draw(st.sampled_from(["text", "number", "time", "null", "email", "key", "properties"]))
    if choice == "text":
        event["data"][field] = draw(extreme_text)
    elif choice == "number":
        event["data"][field] = draw(extreme_number)
    elif choice == "time":
        event["time"] = draw(extreme_time)
    elif choice == "null":
        event["data"][field] = None
    elif choice == "email":
        event["data"]["contact"] = draw(st.sampled_from([{}, {"email": None}, {"email": "a@b.c" + "\x00"}]))
    elif choice == "key":
        event["partitionkey"] = draw(extreme_text)
    else:
        event["data"]["properties"] = draw(st.dictionaries(extreme_text, st.one_of(extreme_text, extreme_number)))
    return json.dumps(event).encode()


raw_value = st.one_of(
    st.binary(max_size=200),
    # up to the broker's limit (1 MiB), a 10,000-byte key and headers included
    st.builds(lambda n: b"\x00" * n, st.sampled_from([0, 1, 10_000, 500_000, 1_030_000])),
    st.builds(lambda n: b"[" * n, st.sampled_from([5_000, 100_000])),
)
key = st.one_of(st.none(), st.binary(max_size=40), st.just(b"k" * 10_000), st.just(b"acme.com"))
headers = st.lists(st.tuples(st.text(max_size=20), st.binary(max_size=40)), max_size=3)


@st.composite
def poison(draw: st.DrawFn) -> tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]:
    """(kind, key, value, headers) of one record that is not a good touch."""
    kind = draw(st.sampled_from(["tombstone", "raw bytes", "other type", "extreme touch"]))
    value = {
        "tombstone": None,
        "raw bytes": draw(raw_value),
        "other type": draw(st.sampled_from(OTHER_TYPES)),
        "extreme touch": draw(extreme_touch()),
    }[kind]
    record_key = draw(key)
    if value is None and record_key is None:  # kafka-python cannot send a record with neither
        record_key = b"acme.com"
    return kind, record_key, value, draw(headers)


@pytest.fixture
def consumer(backend: Harness) -> Iterator[threading.Thread]:
    """One consumer running through every round of the test."""
    proc = backend.processor("fuzz", batch_size=50)
    stop = threading.Event()
    thread = threading.Thread(target=proc.run, args=(stop,), daemon=True)
    thread.start()
    yield thread
    stop.set()
    thread.join(30)


def test_whatever_a_producer_sends_the_consumer_handles_or_dead_letters_and_goes_on(
    backend: Harness, consumer: threading.Thread, capsys: pytest.CaptureFixture[str]
) -> None:
    sent: Counter[str] = Counter()

    @settings(
        max_examples=ROUNDS,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large, HealthCheck.too_slow],
    )
    @given(st.lists(st.one_of(poison(), st.none()), min_size=80, max_size=200))
    def round_(plan: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]] | None]) -> None:
        good: list[int] = []
        others: dict[tuple[int, int], bytes | None] = {}
        for item in [*plan, None]:  # ends with a good touch: once it is handled, the round is through
            if item is None:
                seq = next(_seq)
                backend.produce_raw(b"acme.com", encode(touch("acme.com", seq)))
                good.append(seq)
                sent["good touch"] += 1
                continue
            kind, record_key, value, record_headers = item
            where = backend.produce_raw(record_key, value, record_headers if backend.bootstrap else None)
            others[where] = value
            sent[kind] += 1
        _wait_for(backend, consumer, good[-1])
        sent["(handled, not dead-lettered)"] += _check(backend, good, others)
        assert _extremes_handled(backend) == sent["(handled, not dead-lettered)"]

    round_()
    with capsys.disabled():
        print(f"\n[fuzz {backend.name}] records sent by kind: {dict(sorted(sent.items()))}")


def _wait_for(backend: Harness, consumer: threading.Thread, seq: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(handled == seq for _, handled in backend.effects("fuzz")):
        assert consumer.is_alive(), "the consumer died"
        assert time.monotonic() < deadline, f"good touch {seq} was not handled within {timeout_s} s"
        time.sleep(0.05)


def _check(backend: Harness, good: list[int], others: dict[tuple[int, int], bytes | None]) -> int:
    """Every good touch handled once, every other record dead-lettered with its bytes; how many were not."""
    handled = Counter(seq for _, seq in backend.effects("fuzz"))
    assert all(handled[seq] == 1 for seq in good), "a good touch was lost or handled twice"
    with backend.engine.connect() as connection:
        letters = {
            (row.partition, row.offset): row
            for row in connection.execute(select(DeadLetter).where(DeadLetter.consumer_group == "fuzz"))
        }
    not_lettered = 0
    for where, value in others.items():
        letter = letters.get(where)
        if letter is None:  # then it must have been a legal (if extreme) touch, handled: counted by the caller
            not_lettered += 1
            continue
        assert letter.reason in KNOWN_REASONS, letter.reason
        assert letter.value == value, f"record at {where}: the dead letter lost the original bytes"
    return not_lettered


def _extremes_handled(backend: Harness) -> int:
    """Effects of the extreme touches (they all carry seq -1)."""
    with backend.engine.connect() as connection:
        return len(connection.execute(select(effect.c.id).where(effect.c.seq == -1)).all())
