"""Nothing a producer sends stops a consumer or the relay: every record is handled or dead-lettered, with its
original bytes and a reason, and what comes after it is handled. Run on every backend of the event log."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from eventlog.limits import MAX_RECORD_BYTES, TRUNCATED_HEADER, RecordTooLarge
from eventlog.models import DeadLetter, OutboxRecord
from events.registry import encode
from events.topics import dead_letter_topic
from tests.eventlog.harness import Harness, record_effect, touch

ROOT = Path(__file__).resolve().parents[2]
LEAD_QUALIFIED = (ROOT / "contracts/examples/leadflow.lead.qualified.v1.json").read_bytes()


def _letters(backend: Harness) -> list[DeadLetter]:
    with backend.engine.connect() as connection:
        return list(connection.execute(select(DeadLetter).order_by(DeadLetter.id)).all())  # type: ignore[arg-type]


def test_tombstones_odd_keys_and_events_of_other_topics_are_dead_lettered_and_the_rest_handled(
    backend: Harness,
) -> None:
    backend.produce_raw(b"acme.com", None)  # a tombstone
    backend.produce_raw(None, encode(touch("acme.com", 1)))  # no key: handled, the key is only for partitioning
    backend.produce_raw(b"\xff\xfe\x00binary", b"\x00\x01 not json")
    backend.produce_raw(b"k" * 10_000, encode(touch("acme.com", 2)))
    backend.produce_raw(b"acme.com", LEAD_QUALIFIED)  # a valid event, on the wrong topic
    backend.emit(touch("acme.com", 3))
    backend.deliver()

    proc = backend.processor("g")
    backend.consume_until(proc, lambda: len(backend.effects("g")) >= 3)
    backend.deliver()

    assert backend.effects("g") == [("acme.com", 1), ("acme.com", 2), ("acme.com", 3)]
    letters = _letters(backend)
    assert [(row.reason, row.key, row.value) for row in letters] == [
        ("tombstone", b"acme.com", None),
        ("malformed", b"\xff\xfe\x00binary", b"\x00\x01 not json"),
        ("wrong_topic", b"acme.com", LEAD_QUALIFIED),
    ]
    assert "leadflow.lead.qualified.v1 travels on leadflow.leads" in letters[2].error


def test_a_record_too_large_for_a_dead_letter_copy_keeps_its_bytes_and_sends_a_truncated_copy(
    backend: Harness,
) -> None:
    huge = b"{" + b"x" * (MAX_RECORD_BYTES + 500)  # malformed, and over the limit once headers are added
    backend.produce_raw(b"acme.com", huge)
    backend.emit(touch("acme.com", 1))
    backend.deliver()

    backend.consume_until(backend.processor("g"), lambda: len(backend.effects("g")) >= 1)
    backend.deliver()

    [letter] = _letters(backend)
    assert (letter.reason, letter.value) == ("malformed", huge)
    with backend.engine.connect() as connection:
        [copy] = connection.execute(
            select(OutboxRecord).where(OutboxRecord.topic == dead_letter_topic(backend.topic))
        ).all()
    assert copy.headers[TRUNCATED_HEADER] == f"key 8 bytes, value {len(huge)} bytes"
    assert len(copy.value) < len(huge)
    assert huge.startswith(copy.value)
    assert copy.sent_at is not None or backend.bootstrap is None  # the relay took it
    assert copy.failed_at is None


def test_an_event_larger_than_the_broker_takes_is_refused_before_it_is_written(backend: Harness) -> None:
    event = touch("acme.com", 1)
    with backend.log.unit_of_work() as uow, pytest.raises(RecordTooLarge, match="the limit is"):
        uow.append(topic=backend.topic, key=b"acme.com", value=b"x" * (MAX_RECORD_BYTES + 1), event=event)


def test_a_dead_letter_write_that_fails_leaves_a_last_resort_row_and_the_consumer_goes_on(
    postgres_backend: Harness,
) -> None:
    backend = postgres_backend  # the fault is injected with a PostgreSQL trigger; SQLite runs the same code
    with backend.engine.begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION eventlog.refuse_dead_letters() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'dead letters are refused today'; END $$ LANGUAGE plpgsql"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON eventlog.dead_letter FOR EACH ROW "
                "WHEN (NEW.reason <> 'dead_letter_failed') EXECUTE FUNCTION eventlog.refuse_dead_letters()"
            )
        )
    backend.produce_raw(b"acme.com", b"not json")
    backend.emit(touch("acme.com", 1))
    backend.deliver()

    backend.consume_until(backend.processor("g"), lambda: len(backend.effects("g")) >= 1)

    [letter] = _letters(backend)
    assert (letter.reason, letter.value) == ("dead_letter_failed", b"not json")
    assert "malformed" in letter.error
    assert "dead letters are refused today" in letter.error


def test_the_relay_sets_aside_a_row_the_broker_refuses_and_goes_on(kafka_backend: Harness) -> None:
    backend = kafka_backend  # the SQL log has no relay: its outbox is the log
    with backend.engine.begin() as connection:  # as an older version could have written it: no size check
        connection.execute(
            insert(OutboxRecord).values(
                topic=backend.topic, key=b"acme.com", value=b"x" * 2_000_000, created_at=datetime.now(UTC)
            )
        )
    backend.emit(touch("acme.com", 1))
    assert backend.deliver() == 2  # both left the queue: one sent, one set aside

    backend.consume_until(backend.processor("g"), lambda: len(backend.effects("g")) >= 1)
    with backend.engine.connect() as connection:
        [failed] = connection.execute(select(OutboxRecord).where(OutboxRecord.failed_at.is_not(None))).all()
    assert "MessageSizeTooLargeError" in failed.failure
    assert backend.effects("g") == [("acme.com", 1)]


def test_a_consumer_busy_on_one_batch_too_long_names_itself(backend: Harness) -> None:
    release = threading.Event()

    def slow(event, uow):
        release.wait(30)
        record_effect(event, uow)

    backend.emit(touch("acme.com", 1))
    backend.deliver()
    proc = backend.processor("g", slow)
    stop = threading.Event()
    thread = threading.Thread(target=proc.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while proc.heartbeat.problem(stuck_after_s=0.5) is None:
            assert time.monotonic() < deadline, "the heartbeat never said the consumer is stuck"
            time.sleep(0.1)
        problem = proc.heartbeat.problem(stuck_after_s=0.5)
        assert problem is not None
        assert problem.startswith("consumer:g: stuck for")
        assert "1 records from leadflow.touches" in problem
    finally:
        release.set()
        stop.set()
        thread.join(30)
    assert proc.heartbeat.problem(stuck_after_s=0.5) is None
    assert json.loads(json.dumps(backend.effects("g"))) == [["acme.com", 1]]
