"""What the nurture-flow tests share: a track file, events as marketing and the other services send them, and a
harness that consumes them and fires timers with a clock the test moves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from eventlog.backends import EventLog, SqlEventLog, processor
from eventlog.models import OutboxRecord
from events.catalog import (
    HandoffRejected,
    LeadQualified,
    LeadScored,
    TouchRecorded,
)
from events.catalog.common import ContactIdentity, Recycle
from events.catalog.leads import ContactSummary, LeadProfile, Score
from events.registry import Event, decode, new_event
from services.nurture import consumer
from services.nurture.enrollment.book import StoredTracks
from services.nurture.enrollment.handlers import OWNER, RECYCLE_DUE, STEP_DUE
from services.nurture.enrollment.models import NurtureEnrollment, NurtureStepRun
from services.nurture.scheduling import recycle_due, step_due
from services.nurture.tracks.models import SettingsVersion, TrackVersion
from tests.clock import T0, Clock
from timers.scheduler import Scheduler

SETTINGS: dict[str, Any] = {
    "default_time_zone": "Europe/Berlin",
    "caps": [{"channel": "email", "max_actions": 2, "window_days": 7}],
    "quiet_hours": {"start": "20:00", "end": "08:00"},
}
AWARENESS: dict[str, Any] = {
    "key": "awareness",
    "name": "Awareness for new raw leads",
    "priority": 10,
    "entry": {"stages": ["raw"]},
    "steps": [
        {"id": "welcome", "wait": {"duration": "PT1H"}, "action": {"channel": "email", "content_id": "welcome"}},
        {
            "id": "guide",
            "wait": {"duration": "P2D"},
            "action": {"channel": "email", "content_id": "buyers-guide"},
            "branch": {"within_days": 3, "otherwise": "reminder"},
        },
        {
            "id": "roi",
            "wait": {"duration": "P1D"},
            "action": {"channel": "email", "content_id": "roi-calc"},
            "next": "end",
        },
        {"id": "reminder", "wait": {"duration": "P1D"}, "action": {"channel": "ad_audience", "content_id": "ads"}},
    ],
}
RENURTURE: dict[str, Any] = {
    "key": "re-nurture",
    "name": "Re-nurture for bad timing",
    "priority": 20,
    "entry": {"recycle_reasons": ["bad_timing"]},
    "steps": [{"id": "check-in", "wait": {"duration": "P1D"}, "action": {"channel": "email", "content_id": "hello"}}],
}


def store_tracks(engine: Engine, *tracks: dict[str, Any], settings: dict[str, Any] | None = None) -> None:
    """Store `tracks` as active version 1 and `settings` as the settings in force, as the tracks API would."""
    with engine.begin() as connection:
        who = {"created_by": "test", "created_at": T0}
        connection.execute(insert(SettingsVersion).values(version=1, document=settings or SETTINGS, **who))
        for track in tracks:
            connection.execute(
                insert(TrackVersion).values(
                    key=track["key"], version=1, status="active", document=track, status_by="test", status_at=T0, **who
                )
            )


def scored(contact: uuid.UUID, email: str, stage: str = "raw", *, at: datetime = T0, **profile: Any) -> Event[Any]:
    """lead.scored of a contact at `stage`, with its profile."""
    data = LeadScored(
        lead_id=contact,
        contact_id=contact,
        account_key=email.split("@")[1],
        stage=stage,
        fit_score=10,
        fit_grade="B",
        engagement_score=5,
        account_score=5,
        definition_version=1,
        profile=LeadProfile(email=email, **profile),
    )
    return new_event(data, key=data.account_key, time=at, source="lead_scoring")


def qualified(contact: uuid.UUID, email: str, *, at: datetime) -> Event[Any]:
    """lead.qualified of the contact."""
    data = LeadQualified(
        lead_id=contact,
        contact_id=contact,
        account_key=email.split("@")[1],
        qualification_cycle=1,
        reason="criteria",
        definition_version=1,
        contact=ContactSummary(contact_id=contact, email=email),
        score=Score(fit_score=30, fit_grade="A", engagement_score=60, account_score=60, definition_version=1),
    )
    return new_event(data, key=data.account_key, time=at, source="lead_scoring")


def touch(email: str, touch_type: str, *, at: datetime, content_id: str | None = None) -> Event[Any]:
    """A touch of the contact, e.g. an email click on a nurture content, or an unsubscribe."""
    data = TouchRecorded(
        touch_id=uuid.uuid4(),
        contact=ContactIdentity(email=email),
        touch_type=touch_type,
        channel="email",
        content_id=content_id,
        source_system="mautic",
    )
    return new_event(data, key=email.split("@")[1], time=at, source="urn:mautic")


def rejected(contact: uuid.UUID, email: str, *, at: datetime, wait_days: int, reason: str = "bad_timing") -> Event[Any]:
    """handoff.rejected whose recycle policy sends the lead to nurture after `wait_days`."""
    data = HandoffRejected(
        handoff_id=uuid.uuid4(),
        lead_id=contact,
        contact_id=contact,
        rep_id=uuid.uuid4(),
        reason_code=reason,
        recycle=Recycle(action="nurture", wait_days=wait_days),
        definition_version=1,
    )
    return new_event(data, key=email.split("@")[1], time=at, source="handoff")


class Nurture:
    """Nurture's consumer group and scheduler over `log`, stepped by the test; `clock` is the scheduler's."""

    def __init__(self, engine: Engine, clock: Clock, log: EventLog | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.log = log or SqlEventLog(engine)
        book = StoredTracks()
        self.processor = processor(
            self.log, group=consumer.GROUP, topics=consumer.TOPICS, handlers=consumer.handlers(book)
        )
        self.scheduler = Scheduler(
            uow=self.log.unit_of_work(),
            handlers={(OWNER, STEP_DUE): step_due(book), (OWNER, RECYCLE_DUE): recycle_due(book)},
            clock=clock,
            owners=[OWNER],
        )

    def publish(self, *events: Event[Any]) -> None:
        """Emit `events` to the log, in one transaction."""
        with self.log.unit_of_work() as uow:
            for event in events:
                uow.emit(event)
            uow.commit()

    def consume(self, rounds: int = 5) -> None:
        """Let the consumer group read what there is."""
        for _ in range(rounds):
            self.processor.step(0.05)

    def at(self, moment: datetime) -> int:
        """Move the clock to `moment` and fire every timer due by then; how many fired."""
        self.clock.now = moment
        return sum(iter(self.scheduler.step, 0))

    def actions(self) -> list[Any]:
        """Every nurture.action.requested in the outbox, in order."""
        return [event.data for event in self.events() if event.type == "leadflow.nurture.action.requested.v1"]

    def events(self) -> list[Event[Any]]:
        """Every event nurture emitted, in outbox order."""
        with self.engine.connect() as connection:
            values = connection.execute(
                select(OutboxRecord.value)
                .where(OutboxRecord.topic.like("%nurture.actions"))
                .order_by(OutboxRecord.position)
            ).scalars()
            return [decode(value) for value in values]

    def enrollments(self, contact: uuid.UUID) -> list[NurtureEnrollment]:
        """The contact's enrollments, oldest first."""
        with self.log.unit_of_work() as uow:
            rows = list(
                uow.session.scalars(
                    select(NurtureEnrollment)
                    .where(NurtureEnrollment.contact_id == contact)
                    .order_by(NurtureEnrollment.enrolled_at)
                )
            )
            uow.session.expunge_all()
            return rows

    def runs(self, contact: uuid.UUID) -> list[tuple[str, str]]:
        """(step id, outcome) of the contact's step history, in order."""
        with self.engine.connect() as connection:
            query = select(NurtureStepRun.step_id, NurtureStepRun.outcome).where(NurtureStepRun.contact_id == contact)
            return [(step, outcome) for step, outcome in connection.execute(query.order_by(NurtureStepRun.id))]


def exits(events: Sequence[Event[Any]]) -> list[str]:
    """The reasons of the nurture.exited events."""
    return [event.data.reason for event in events if event.type == "leadflow.nurture.exited.v1"]
