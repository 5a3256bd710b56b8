"""Another team's Kafka client (kcat, on librdkafka) against `leadflow run lead-scoring` and `leadflow relay` on
Kafka and PostgreSQL: tombstones, long and non-UTF-8 keys, a non-UTF-8 header name and a record at the broker's
limit are each dead-lettered, and the good touch produced after each is scored."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from kafka.consumer import KafkaConsumer
from sqlalchemy import Engine

from events.catalog import LeadScored, TouchRecorded
from events.catalog.common import ContactIdentity
from events.registry import Event, decode, encode, new_event
from events.topics import LEADS, TOUCHES
from tests.conftest import ApiClient
from tests.lead_scoring.test_journey_local import publish
from tests.test_cli import _free_port

ROOT = Path(__file__).resolve().parent.parent
LEADFLOW = str(Path(sys.executable).parent / "leadflow")
SECRET = "kcat-test-secret"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
KCAT = shutil.which("kcat")  # scripts/kafka_broker.py installs Debian's kcat with the broker


@pytest.fixture
def lead_scoring(postgres_engine: Engine, kafka_bootstrap: str) -> Iterator[tuple[str, str]]:
    """`leadflow run lead-scoring` and `leadflow relay` as an operator starts them; yields (API URL, topic prefix)."""
    port, prefix = _free_port(), f"kcat{uuid.uuid4().hex[:8]}."
    env = {
        **os.environ,
        "LEADFLOW_DATABASE_URL": postgres_engine.url.render_as_string(hide_password=False),
        "LEADFLOW_EVENT_LOG": "kafka",
        "LEADFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "LEADFLOW_KAFKA_TOPIC_PREFIX": prefix,
        "LEADFLOW_KAFKA_PARTITIONS": "2",
        "LEADFLOW_SECRET_KEY": SECRET,
        "LEADFLOW_HTTP_PORT": str(port),
    }
    service = subprocess.Popen([LEADFLOW, "run", "lead-scoring"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    relay = None
    try:
        _wait_until(lambda: _answers(f"{url}/health"), 90, "leadflow run lead-scoring never answered /health")
        relay = subprocess.Popen([LEADFLOW, "relay"], cwd=ROOT, env=env)  # after the service created the topics
        yield url, prefix
    finally:
        for process in (service, relay):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def test_a_foreign_producers_poison_is_dead_lettered_and_the_next_touch_is_scored(
    lead_scoring: tuple[str, str], kafka_bootstrap: str
) -> None:
    assert KCAT, "kcat is missing: scripts/kafka_broker.py installs it (apt-get install kcat)"
    url, prefix = lead_scoring
    topic = prefix + TOUCHES
    with httpx.Client(base_url=url, timeout=30) as client:
        api = ApiClient(client, SECRET)
        publish(api)
        poisons: list[tuple[str, bytes, bytes, list[bytes | str]]] = [
            ("tombstone", b"acme.com", b"", ["-Z"]),
            ("400-byte key", b"k" * 400, b"{not json", []),
            ("non-UTF-8 key", b"\xff\xfe\xfd", b"{not json", []),
            ("non-UTF-8 header name", b"acme.com", b"{not json", ["-H", b"\xff\xfeh=v"]),
            ("1,048,450-byte record", b"acme.com", b"x" * 1_048_450, ["-X", "message.max.bytes=2000000"]),
        ]
        scored_triggers = []
        for n, (_, key, value, flags) in enumerate(poisons):
            _kcat(kafka_bootstrap, topic, key, value, flags)
            good = _touch(n)
            _kcat(kafka_bootstrap, topic, b"acme.com", encode(good), [])
            scored_triggers.append(good.id)

        scored = _scored_trigger_ids(kafka_bootstrap, prefix + LEADS, set(scored_triggers))
        assert scored == set(scored_triggers), "a good touch after a poison record was not scored"

        letters = api.call("GET", "/v1/eventlog/dead-letters", "admin").json()
        assert [(item["reason"], item["key_size"], item["value_size"]) for item in reversed(letters["items"])] == [
            ("tombstone", 8, None),
            ("malformed", 400, 9),
            ("malformed", 3, 9),
            ("malformed", 8, 9),
            ("malformed", 8, 1_048_450),
        ]
        assert api.call("GET", "/v1/eventlog/outbox/failed", "admin").json()["count"] == 0
        assert client.get("/ready").status_code == 200

        two_megabytes = b'{"batch": [' + b" " * 2_000_000 + b"]}"
        headers = {**api.as_("marketing_automation"), "content-type": "application/json"}
        too_large = client.post("/v1/touches", content=two_megabytes, headers=headers)
        assert too_large.status_code == 413
        assert too_large.headers["content-type"] == "application/problem+json"


def _touch(n: int) -> Event[TouchRecorded]:
    data = TouchRecorded(
        touch_id=uuid.uuid4(),
        contact=ContactIdentity(email=f"buyer{n}@acme.com"),
        touch_type="content_download",
        channel="web",
        source_system="kcat",
    )
    return new_event(data, key="acme.com", time=T0 + timedelta(minutes=n), source="urn:kcat")


def _kcat(bootstrap: str, topic: str, key: bytes, value: bytes, flags: list[bytes | str]) -> None:
    """Produce one record with kcat, partitioned as leadflow's contract asks (murmur2, like the Java client)."""
    command: list[bytes | str] = [KCAT or "kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t"]
    command += ["-X", "partitioner=murmur2_random", *flags]
    subprocess.run(command, input=key + b"\t" + value + b"\n", check=True, timeout=60)


def _scored_trigger_ids(bootstrap: str, topic: str, wanted: set[uuid.UUID], timeout_s: float = 90) -> set[uuid.UUID]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    seen: set[uuid.UUID] = set()
    deadline = time.monotonic() + timeout_s
    try:
        while seen != wanted and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    data = decode(record.value).data
                    if isinstance(data, LeadScored) and data.trigger_event_id in wanted:
                        seen.add(data.trigger_event_id)
    finally:
        consumer.close()
    return seen


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until(check: object, timeout_s: float, message: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, message
        time.sleep(0.2)
