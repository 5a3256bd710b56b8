"""The sales half of the loop on real Kafka and PostgreSQL: touches in, lead.qualified, a handoff routed, its SLA
breached and reassigned, accepted, converted, won, and opportunity.closed read back by lead_scoring, whose
simulation of the definition in force then counts the win."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from kafka.producer import KafkaProducer
from sqlalchemy import Engine

from events.catalog import ContactIdentified, TouchRecorded
from events.catalog.common import AccountHint, ContactIdentity, ContactTraits
from events.envelope import utc_now
from events.registry import encode, new_event
from events.topics import TOUCHES
from kernel.settings import Settings
from leadflow.app import create_app
from tests.clock import Clock
from tests.handoff.conftest import SalesApi
from tests.handoff.org.documents import small
from tests.handoff.support import ANA, BEN, emitted, fire_until, handoffs, save_org
from tests.lead_scoring.test_journey_local import publish

EMAIL = "dana.whitfield@acme-robotics.com"
EMAILS = {ANA: "ana@acme.example", BEN: "ben@acme.example"}
EMEA_POOL = [
    {"name": "EMEA", "conditions": [{"field": "region", "eq": "EMEA"}], "target": {"kind": "pool", "team": "emea"}}
]


def _marketing_automation_sends(bootstrap: str, prefix: str) -> None:
    """Dana, VP Operations at a German manufacturer, asks for a demo (produced to leadflow.touches)."""
    identified = ContactIdentified(
        email=EMAIL,
        traits=ContactTraits(
            first_name="Dana", last_name="Whitfield", title="VP Operations", industry="manufacturing", employees=850,
            country="DE",
        ),
        account=AccountHint(company_name="Acme Robotics GmbH", domain="acme-robotics.com"),
        source_system="hubspot",
    )  # fmt: skip
    demo = TouchRecorded(
        touch_id=uuid.uuid4(), contact=ContactIdentity(email=EMAIL), touch_type="demo_request", channel="web",
        source_system="hubspot",
    )  # fmt: skip
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    start = utc_now() - timedelta(minutes=5)
    for offset, data in enumerate((identified, demo)):
        event = new_event(data, key="acme-robotics.com", time=start + timedelta(minutes=offset), source="urn:hubspot")
        producer.send(prefix + TOUCHES, key=b"acme-robotics.com", value=encode(event)).get(timeout=30)
    producer.close()


def _wait(check: Any, what: str, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_touches_to_a_won_opportunity_that_lead_scoring_counts(postgres_engine: Engine, kafka_bootstrap: str) -> None:
    prefix = f"test{uuid.uuid4().hex[:8]}."
    settings = Settings(
        database_url=postgres_engine.url.render_as_string(hide_password=False),
        event_log="kafka",
        kafka_bootstrap=kafka_bootstrap,
        kafka_partitions=3,
        kafka_topic_prefix=prefix,
        secret_key="test-secret",
    )
    save_org(postgres_engine, small(rules=EMEA_POOL))
    # The SLA clock is driven by a test clock below, not by the wall clock.
    with TestClient(create_app(settings, run_scheduler=False)) as client:
        api = SalesApi(client, "test-secret", postgres_engine)
        definition = publish(api)
        _marketing_automation_sends(kafka_bootstrap, prefix)

        first = _wait(lambda: next(iter(handoffs(postgres_engine)), None), "a handoff")
        assert first.status == "assigned"
        assert first.rep_id in EMAILS
        assert first.dossier["contact"]["email"] == EMAIL
        routing = api.by("GET", f"/v1/handoffs/{first.id}/routing", "rep", EMAILS[first.rep_id]).json()
        assert routing["decisions"][0]["method"] == "round_robin"

        fire_until(postgres_engine, Clock(utc_now()), first.due_at + timedelta(minutes=1), step=timedelta(hours=1))
        [moved] = handoffs(postgres_engine)
        assert moved.rep_id in EMAILS
        assert moved.rep_id != first.rep_id
        assert [e.data.reason for e in emitted(postgres_engine, "handoff.reassigned")] == ["sla_breached"]

        rep = EMAILS[moved.rep_id]
        path = f"/v1/handoffs/{moved.id}"
        late = api.by("POST", f"{path}/accept", "rep", EMAILS[first.rep_id], json={})
        accepted = api.by("POST", f"{path}/accept", "rep", rep, json={"note": "demo booked"})
        converted = api.by(
            "POST", f"{path}/convert", "rep", rep,
            json={"name": "Acme Robotics - 3 sites", "amount": {"amount": "48000.00", "currency": "EUR"}},
        )  # fmt: skip
        won = api.by("POST", f"{path}/close", "rep", rep, json={"outcome": "won"})
        assert late.status_code == 404  # no longer theirs
        assert [accepted.status_code, converted.status_code, won.status_code] == [200, 200, 200], won.text

        now = utc_now()
        window = {"start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=1)).isoformat()}

        def won_counted() -> Any:
            asked = api.call("POST", f"/v1/definitions/{definition['id']}/simulate", "sales_ops", json=window)
            assert asked.status_code == 202, asked.text
            job = _wait(
                lambda: (
                    (job := api.call("GET", asked.headers["location"], "sales_ops").json())["status"]
                    in ("done", "failed")
                    and job
                ),
                "the simulation job to end",
            )
            result = job["result"]
            return result is not None and result["draft"]["quality"]["won"] == 1 and result

        simulation = _wait(won_counted, "lead_scoring to read opportunity.closed back")

    quality = simulation["draft"]["quality"]
    assert quality["accepted"] == 1
    assert quality["won"] == 1
    types = [event.type for event in emitted(postgres_engine) if event.envelope.source.endswith(":handoff")]
    assert types == [
        "leadflow.handoff.created.v1",
        "leadflow.handoff.assigned.v1",
        "leadflow.handoff.sla_warned.v1",
        "leadflow.handoff.sla_breached.v1",
        "leadflow.handoff.reassigned.v1",
        "leadflow.handoff.accepted.v1",
        "leadflow.opportunity.converted.v1",
        "leadflow.opportunity.closed.v1",
    ]
