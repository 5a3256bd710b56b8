"""The lead_scoring journey on real Kafka and PostgreSQL: touches in from marketing automation, lead.qualified out."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from kafka.consumer import KafkaConsumer
from kafka.producer import KafkaProducer
from sqlalchemy import Engine

from events.catalog import ContactIdentified, LeadQualified, TouchRecorded
from events.catalog.common import AccountHint, ContactIdentity, ContactTraits
from events.registry import decode, encode, new_event
from events.topics import LEADS, TOUCHES
from kernel.settings import Settings
from leadflow.app import create_app
from tests.conftest import ApiClient
from tests.lead_scoring.test_journey_local import DANA, publish

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EMAIL = "dana.whitfield@acme-robotics.com"


def _marketing_automation_sends(bootstrap: str, prefix: str) -> None:
    """What a marketing automation platform produces to leadflow.touches."""
    identified = ContactIdentified(
        email=EMAIL,
        traits=ContactTraits(
            first_name="Dana",
            last_name="Whitfield",
            title="VP Operations",
            industry="manufacturing",
            employees=850,
            country="DE",
        ),
        account=AccountHint(company_name="Acme Robotics GmbH", domain="acme-robotics.com"),
        source_system="hubspot",
    )
    demo = TouchRecorded(
        touch_id=uuid.uuid4(),
        contact=ContactIdentity(email=EMAIL),
        touch_type="demo_request",
        channel="web",
        source_system="hubspot",
    )
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for offset, data in enumerate((identified, demo)):
        event = new_event(data, key="acme-robotics.com", time=T0.replace(minute=offset), source="urn:hubspot")
        producer.send(prefix + TOUCHES, key=b"acme-robotics.com", value=encode(event)).get(timeout=30)
    producer.close()


def test_touches_on_kafka_become_a_lead_qualified_event(postgres_engine: Engine, kafka_bootstrap: str) -> None:
    prefix = f"test{uuid.uuid4().hex[:8]}."
    settings = Settings(
        database_url=postgres_engine.url.render_as_string(hide_password=False),
        event_log="kafka",
        kafka_bootstrap=kafka_bootstrap,
        kafka_partitions=3,
        kafka_topic_prefix=prefix,
        secret_key="test-secret",
    )
    leads = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=f"marketing-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest"
    )
    with TestClient(create_app(settings)) as client:
        api = ApiClient(client, "test-secret")
        publish(api)
        _marketing_automation_sends(kafka_bootstrap, prefix)
        leads.subscribe([prefix + LEADS])
        qualified = None
        deadline = time.monotonic() + 60
        while qualified is None and time.monotonic() < deadline:
            for records in leads.poll(timeout_ms=500).values():
                for record in records:
                    event = decode(record.value)
                    if event.type == "leadflow.lead.qualified.v1":
                        qualified = (record, event)
        leads.close()
        assert qualified is not None, "no lead.qualified on leadflow.leads within 60 s"
        record, event = qualified
        assert isinstance(event.data, LeadQualified)
        lead = api.call("GET", f"/v1/leads/{DANA}", "sales_ops").json()

    assert record.key == b"acme-robotics.com"
    assert json.loads(record.value)["type"] == "leadflow.lead.qualified.v1"
    data = event.data
    assert data.contact_id == DANA
    assert data.contact.email == EMAIL
    assert data.account is not None
    assert data.account.name == "Acme Robotics GmbH"
    assert data.reason == "hand_raiser"
    assert data.definition_version == 1
    assert data.qualification_cycle == 1
    assert [touch.touch_type for touch in data.recent_touches] == ["demo_request"]
    assert {hit.rule_id for hit in data.score.breakdown} >= {"fit.industry", "fit.size", "eng.demo_request"}
    assert lead["stage"] == "mql"
