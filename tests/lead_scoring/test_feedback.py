"""lead_scoring's handlers on the SQL log (SQLite): sales feedback, insights, consent and erasure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from auth.tokens import Principal
from eventlog.backends import SqlEventLog
from eventlog.models import OutboxRecord
from events.catalog import (
    AccountInsightLogged,
    ContactErased,
    ContactIdentified,
    HandoffRejected,
    TouchRecorded,
)
from events.catalog.common import AccountHint, ContactIdentity, ContactTraits, Recycle
from events.registry import Event, decode, new_event
from services.lead_scoring.definitions import commands as definitions
from services.lead_scoring.leads.handlers import handle_batch
from services.lead_scoring.matching.resolve import NAMESPACE
from services.lead_scoring.models import Contact, Lead, SalesOutcome, Touch
from tests.lead_scoring.test_definition_api import ROOT

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DANA = "dana.whitfield@acme-robotics.com"
LEE = "lee.chen@acme-robotics.com"


class World:
    """The lead_scoring handlers over a fresh SQLite database with the example definition published."""

    def __init__(self, engine: Engine) -> None:
        self.log = SqlEventLog(engine)
        self.publish(yaml.safe_load((ROOT / "config/lead_definition.example.yaml").read_text()), T0)

    def publish(self, document: dict[str, Any], now: datetime) -> None:
        """Publish a definition, approved by both sides (which rescores every lead, when the rescorer runs)."""
        marketing, sales = Principal("m", "marketing_ops"), Principal("s", "sales_ops")
        with self.log.unit_of_work() as uow:
            draft = definitions.create_draft(uow, document=document, actor=marketing, now=now)
        for actor in (marketing, sales):
            with self.log.unit_of_work() as uow:
                definitions.approve_draft(uow, definition_id=draft.id, revision=1, actor=actor, now=now)
        with self.log.unit_of_work() as uow:
            definitions.publish_draft(uow, definition_id=draft.id, actor=sales, now=now)

    def handle(self, *events: Event[Any]) -> None:
        """Handle events as one batch."""
        with self.log.unit_of_work() as uow:
            handle_batch(events, uow)
            uow.commit()

    def lead(self, email: str) -> Lead:
        """The lead of a contact."""
        with self.log.unit_of_work() as uow:
            lead = uow.session.get(Lead, uuid.uuid5(NAMESPACE, f"contact:{email}"))
            assert lead is not None
            uow.session.expunge(lead)
            return lead

    def emitted(self, event_type: str) -> list[Any]:
        """Data of the events of a type in the outbox."""
        with self.log.unit_of_work() as uow:
            values = uow.session.scalars(select(OutboxRecord.value).where(OutboxRecord.event_type == event_type))
            return [decode(value).data for value in values]


@pytest.fixture
def world(sqlite_engine: Engine) -> World:
    """A published definition, nothing else yet."""
    return World(sqlite_engine)


def identified(email: str, minutes: int, **traits: Any) -> Event[ContactIdentified]:
    """An identify of a person at Acme Robotics."""
    defaults = {"title": "VP Operations", "industry": "manufacturing", "employees": 850, "country": "DE"}
    data = ContactIdentified(
        email=email,
        traits=ContactTraits(**{**defaults, **traits}),
        account=AccountHint(company_name="Acme Robotics GmbH"),
        source_system="test",
    )
    return new_event(data, key="acme-robotics.com", time=T0 + timedelta(minutes=minutes), source="test")


def touched(email: str, minutes: float, touch_type: str, **fields: Any) -> Event[TouchRecorded]:
    """A touch by a person at Acme Robotics."""
    data = TouchRecorded(
        touch_id=uuid.uuid4(),
        contact=ContactIdentity(email=email),
        touch_type=touch_type,
        source_system="test",
        **fields,
    )
    return new_event(data, key="acme-robotics.com", time=T0 + timedelta(minutes=minutes), source="test")


def rejected(email: str, minutes: float, reason: str, recycle: Recycle) -> Event[HandoffRejected]:
    """Sales sends a handoff back."""
    contact_id = uuid.uuid5(NAMESPACE, f"contact:{email}")
    data = HandoffRejected(
        handoff_id=uuid.uuid4(),
        lead_id=contact_id,
        contact_id=contact_id,
        rep_id=uuid.uuid4(),
        reason_code=reason,
        recycle=recycle,
        definition_version=1,
    )
    return new_event(data, key="acme-robotics.com", time=T0 + timedelta(minutes=minutes), source="handoff")


def test_rejected_lead_with_bad_timing_is_recycled_and_cannot_requalify_during_the_wait(world: World) -> None:
    world.handle(identified(DANA, 0), touched(DANA, 1, "demo_request"))
    assert world.lead(DANA).stage == "mql"

    world.handle(rejected(DANA, 60, "bad_timing", Recycle(action="nurture", track_id="not-now", wait_days=90)))
    lead = world.lead(DANA)
    assert lead.stage == "engaged"
    assert lead.cycle_started_at == T0 + timedelta(minutes=60), "the old demo request belongs to the past cycle"
    assert lead.recycled_until == T0 + timedelta(minutes=60, days=90)

    world.handle(touched(DANA, 120, "demo_request"))
    assert (world.lead(DANA).stage, world.lead(DANA).reason) == ("engaged", "qualification_on_hold")
    world.handle(touched(DANA, 60 * 24 * 91, "demo_request"))
    lead = world.lead(DANA)
    assert lead.stage == "mql"
    assert lead.qualification_cycle == 2
    assert [data.qualification_cycle for data in world.emitted("leadflow.lead.qualified.v1")] == [1, 2]


def test_rejection_as_not_a_fit_disqualifies_for_good(world: World) -> None:
    world.handle(identified(DANA, 0), touched(DANA, 1, "demo_request"))
    world.handle(rejected(DANA, 60, "not_a_fit", Recycle(action="disqualify")))
    world.handle(touched(DANA, 120, "demo_request"))

    assert world.lead(DANA).stage == "disqualified"
    assert world.lead(DANA).reason == "sales_disqualified"
    with world.log.unit_of_work() as uow:
        assert [row.outcome for row in uow.session.scalars(select(SalesOutcome))] == ["rejected"]


def test_a_logged_decision_maker_completes_the_buying_committee(world: World) -> None:
    # Lee is engaged (webinar + whitepaper + pricing) but the committee needs a decision maker or two engaged.
    world.handle(
        identified(LEE, 0),
        touched(LEE, 1, "webinar_attended"),
        touched(LEE, 2, "content_download", content_tags=["whitepaper"]),
        touched(LEE, 3, "pricing_page_view"),
        touched(LEE, 4, "webinar_attended"),
        touched(LEE, 5, "pricing_page_view"),  # 60 points: decay over the next minutes keeps it above 50
    )
    assert world.lead(LEE).stage == "engaged"
    assert any("buying committee not met" in unmet for unmet in _explanation(world, LEE)["unmet_criteria"])

    contact_id = uuid.uuid5(NAMESPACE, f"contact:{LEE}")
    with world.log.unit_of_work() as uow:
        account_id = uow.session.get_one(Contact, contact_id).account_id
    assert account_id is not None
    insight = AccountInsightLogged(
        insight_id=uuid.uuid4(),
        account_id=account_id,
        contact_id=contact_id,
        buying_role="decision_maker",
        pain_points=["manual picking errors"],
        logged_by="rep-1",
    )
    world.handle(new_event(insight, key="acme-robotics.com", time=T0 + timedelta(minutes=10), source="handoff"))

    with world.log.unit_of_work() as uow:
        contact = uow.session.get_one(Contact, contact_id)
        assert contact.buying_role == "decision_maker"
        assert contact.pain_points == ["manual picking errors"]
    explanation = _explanation(world, LEE)
    assert explanation["account"]["roles_covered"] == ["decision_maker"]
    assert explanation["account"]["committee_met"] is True
    assert (world.lead(LEE).stage, world.lead(LEE).reason) == ("mql", "criteria")


def test_unsubscribe_disqualifies_for_no_consent(world: World) -> None:
    world.handle(identified(DANA, 0), touched(DANA, 1, "webinar_attended"), touched(DANA, 2, "unsubscribe"))

    lead = world.lead(DANA)
    assert lead.stage == "disqualified"
    assert lead.reason == "no_consent"
    assert [data.reason_code for data in world.emitted("leadflow.lead.disqualified.v1")] == ["no_consent"]


@pytest.mark.parametrize("same_batch", [False, True])
def test_an_erased_contact_loses_its_personal_data_and_never_qualifies(world: World, same_batch: bool) -> None:
    erase = ContactErased(email=DANA, requested_at=T0 + timedelta(minutes=5), source_system="privacy-portal")
    erased = new_event(erase, key="acme-robotics.com", time=T0 + timedelta(minutes=5), source="test")
    events: list[Event[Any]] = [identified(DANA, 0), touched(DANA, 1, "webinar_attended"), erased]
    for batch in [events] if same_batch else [events[:2], events[2:]]:
        world.handle(*batch)  # in one batch, the touch is still a pending row when the erasure comes

    contact_id = uuid.uuid5(NAMESPACE, f"contact:{DANA}")
    with world.log.unit_of_work() as uow:
        contact = uow.session.get_one(Contact, contact_id)
        assert (contact.email, contact.attributes) == (None, {})
        assert contact.erased_at is not None
        assert list(uow.session.scalars(select(Touch).where(Touch.contact_id == contact_id))) == []
        lead = uow.session.get_one(Lead, contact_id)
        assert (lead.stage, lead.reason) == ("disqualified", "erased")


@pytest.mark.parametrize("same_batch", [False, True])
def test_a_person_who_comes_back_after_erasure_is_a_new_contact(world: World, same_batch: bool) -> None:
    erase = ContactErased(email=DANA, requested_at=T0 + timedelta(minutes=5), source_system="privacy-portal")
    events: list[Event[Any]] = [
        identified(DANA, 0),
        new_event(erase, key="acme-robotics.com", time=T0 + timedelta(minutes=5), source="test"),
        identified(DANA, 10),
        touched(DANA, 11, "demo_request"),
    ]
    for batch in [events] if same_batch else [[event] for event in events]:
        world.handle(*batch)

    erased_id = uuid.uuid5(NAMESPACE, f"contact:{DANA}")
    with world.log.unit_of_work() as uow:
        erased = uow.session.get_one(Contact, erased_id)
        assert (erased.email, erased.erased_at is not None) == (None, True)
        assert uow.session.get_one(Lead, erased_id).reason == "erased"
        comeback = uow.session.scalars(select(Contact).where(Contact.email == DANA)).one()
        assert comeback.id != erased_id
        # A new relationship: the demo request qualifies the new contact.
        assert uow.session.get_one(Lead, comeback.id).stage == "mql"


def test_a_touch_sent_twice_under_new_event_ids_counts_once(world: World) -> None:
    touch = touched(DANA, 1, "webinar_attended")
    again = new_event(touch.data, key=touch.key, time=touch.time, source="test")
    world.handle(identified(DANA, 0), touch)
    world.handle(again)

    with world.log.unit_of_work() as uow:
        assert len(list(uow.session.scalars(select(Touch)))) == 1
    assert world.lead(DANA).engagement_score == 15


def _explanation(world: World, email: str) -> dict[str, Any]:
    with world.log.unit_of_work() as uow:
        lead = uow.session.get_one(Lead, uuid.uuid5(NAMESPACE, f"contact:{email}"))
        return dict(lead.explanation)
