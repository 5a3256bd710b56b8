"""The guarantees of the event log (ARCHITECTURE.md section 5), the same on every backend."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from eventlog.models import DeadLetter, OutboxRecord
from events.registry import decode, encode
from tests.eventlog.harness import Harness, record_effect, touch


def test_rolled_back_transaction_publishes_nothing(backend: Harness) -> None:
    with backend.log.unit_of_work() as uow:
        doomed = touch("acme.com", 1)
        uow.append(topic=backend.topic, key=doomed.key.encode(), value=encode(doomed), event=doomed)
        uow.rollback()
    backend.emit(touch("acme.com", 2))
    backend.deliver()

    proc = backend.processor("g")
    backend.consume_until(proc, lambda: len(backend.effects("g")) >= 1)

    assert backend.effects("g") == [("acme.com", 2)]


def test_event_delivered_twice_has_exactly_one_effect(backend: Harness) -> None:
    event = touch("acme.com", 1)
    backend.emit(event)
    relay = backend.log.relay()
    if relay is not None:
        # The relay dies after the broker acknowledged and before it marked the rows sent ...
        relay.publish(relay.pending())
        # ... so its successor publishes the same rows again.
        assert backend.deliver() == 1
    else:
        # On the SQL log the same event can only be appended twice by its producer (a retried request).
        backend.emit(event)
    backend.emit(touch("acme.com", 2))
    backend.deliver()

    proc = backend.processor("g")
    backend.consume_until(proc, lambda: len(backend.effects("g")) >= 2)

    assert backend.effects("g") == [("acme.com", 1), ("acme.com", 2)]


def test_poison_messages_are_dead_lettered_and_the_next_event_is_handled(backend: Harness) -> None:
    valid = json.loads(encode(touch("acme.com", 1)))
    schema_violation = {**valid, "id": str(uuid.uuid4()), "data": {**valid["data"], "touch_id": "not-a-uuid"}}
    unknown_type = {**valid, "id": str(uuid.uuid4()), "type": "leadflow.touch.teleported.v1"}
    backend.produce_raw(b"acme.com", b"\xff{not json")
    backend.produce_raw(b"acme.com", json.dumps(schema_violation).encode())
    backend.produce_raw(b"acme.com", json.dumps(unknown_type).encode())
    failing = touch("acme.com", 13)
    backend.emit(failing)
    backend.emit(touch("acme.com", 2))
    backend.deliver()

    echo = touch("acme.com", 99)

    def handler(event, uow):
        if event.data.properties["seq"] == 13:
            uow.emit(echo)  # undone with the rest of the failed handler's work
            raise ValueError("seq 13 is unlucky")
        record_effect(event, uow)

    proc = backend.processor("g", handler)
    backend.consume_until(proc, lambda: len(backend.effects("g")) >= 1)
    backend.deliver()  # the dead letters travel to the .dlq topic through the outbox too

    with backend.engine.connect() as connection:
        letters = connection.execute(select(DeadLetter).order_by(DeadLetter.id)).all()
        dlq_rows = connection.execute(
            select(OutboxRecord.value, OutboxRecord.headers).where(OutboxRecord.topic == f"{backend.topic}.dlq")
        ).all()
    assert [(row.reason, row.topic) for row in letters] == [
        ("malformed", backend.topic),
        ("schema_violation", backend.topic),
        ("unknown_type", backend.topic),
        ("handler_error", backend.topic),
    ]
    assert "not JSON" in letters[0].error
    assert "data.touch_id" in letters[1].error
    assert "leadflow.touch.teleported.v1" in letters[2].error
    assert "seq 13 is unlucky" in letters[3].error
    assert letters[0].value == b"\xff{not json"  # the original bytes, untouched
    assert decode(letters[3].value).id == failing.id
    assert [(headers or {}).get("leadflow.dlq.reason") for _, headers in dlq_rows] == [
        "malformed",
        "schema_violation",
        "unknown_type",
        "handler_error",
    ]
    assert backend.effects("g") == [("acme.com", 2)]
    with backend.engine.connect() as connection:
        assert connection.scalar(select(func.count()).where(OutboxRecord.event_id == echo.id)) == 0


def test_order_is_kept_per_account_key(backend: Harness) -> None:
    keys = [f"account{n}.com" for n in range(5)]
    backend.emit(*[touch(keys[seq % 5], seq) for seq in range(100)])
    backend.deliver()

    proc = backend.processor("g", batch_size=7)
    backend.consume_until(proc, lambda: len(backend.effects("g")) >= 100)

    effects = backend.effects("g")
    assert sorted(effects) == sorted((keys[seq % 5], seq) for seq in range(100))
    for key in keys:
        seqs = [seq for effect_key, seq in effects if effect_key == key]
        assert seqs == sorted(seqs), f"{key} out of order: {seqs}"


def test_consumer_groups_each_see_every_event_once(backend: Harness) -> None:
    backend.emit(*[touch("acme.com", seq) for seq in range(10)])
    backend.deliver()

    for group in ("lead_scoring", "nurture"):
        proc = backend.processor(group)
        backend.consume_until(proc, lambda: len(backend.effects(group)) >= 10)  # noqa: B023 - used at once

    assert backend.effects("lead_scoring") == backend.effects("nurture") == [("acme.com", s) for s in range(10)]
