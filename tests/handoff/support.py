"""The handoff service under test: a sales org saved, lead.qualified events handled by the consumer's batch
handler, timers fired by the real scheduler on an injected clock, the outbox read back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from eventlog.backends import SqlEventLog
from eventlog.models import OutboxRecord
from events.catalog import DefinitionPublished, LeadQualified
from events.catalog.common import Recycle, TouchSummary
from events.catalog.definitions import Approval, Approvals, RejectionReason, Sla
from events.catalog.leads import AccountSummary, CommitteeMember, ContactSummary, Score
from events.registry import Event, decode, new_event
from services.handoff.escalation.handlers import timer_handlers
from services.handoff.intake.handlers import handle_batch
from services.handoff.models import HandoffRecord
from services.handoff.org import handlers as org_handlers
from services.handoff.org.document import parse_document, rep_id
from services.handoff.sla.terms import OnBreach
from tests.clock import T0, Clock
from tests.handoff.org.documents import small
from timers.scheduler import Scheduler

ANA, BEN, MIA, NIA = (rep_id(f"{name}@acme.example") for name in ("ana", "ben", "mia", "nia"))
ACME = uuid.uuid5(uuid.NAMESPACE_URL, "account:acme")


def save_org(engine: Engine, document: dict[str, Any] | None = None) -> None:
    """Save a routing document (the small org of the org tests unless given) as sales ops."""
    with SqlEventLog(engine).unit_of_work() as uow:
        org_handlers.save_document(
            uow, parse_document(document or small()), actor="ops@acme.example", role="sales_ops", now=T0
        )


def contact_id(number: int) -> uuid.UUID:
    """A stable contact (and lead) id from a number."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"contact:{number}")


def qualified(
    number: int,
    *,
    at: datetime = T0,
    grade: str = "B",
    country: str = "DE",
    account_id: uuid.UUID | None = ACME,
    domain: str = "acme.example",
    cycle: int = 1,
    committee: Sequence[CommitteeMember] = (),
) -> Event[LeadQualified]:
    """A lead.qualified event of contact `number` at `at`."""
    lead = contact_id(number)
    account = None
    if account_id is not None:
        account = AccountSummary(
            account_id=account_id, name="Acme Robotics GmbH", domain=domain, industry="manufacturing",
            employees=850, country=country, engaged_contacts=1,
        )  # fmt: skip
    data = LeadQualified(
        lead_id=lead,
        contact_id=lead,
        account_id=account_id,
        account_key=str(account_id) if account_id else f"c{number}@gmail.com",
        qualification_cycle=cycle,
        reason="criteria",
        definition_version=1,
        contact=ContactSummary(contact_id=lead, email=f"c{number}@{domain}", first_name="Dana", country=country),
        account=account,
        buying_committee=list(committee),
        score=Score(fit_score=60, fit_grade=grade, engagement_score=45, account_score=80, definition_version=1),
        recent_touches=[
            TouchSummary(
                touch_id=uuid.uuid4(), occurred_at=at, touch_type="webinar_attended", channel="webinar", points=15
            )
        ],
    )
    return new_event(data, key=data.account_key, time=at, source="lead_scoring")


def published(on_breach: OnBreach = "reassign", hours: float = 8, at: datetime = T0) -> Event[DefinitionPublished]:
    """definition.published of version 1 with an SLA and two agreed reasons."""
    approval = Approval(approved_by="x", approved_at=at)
    data = DefinitionPublished(
        name="default",
        version=1,
        published_by="ops",
        approvals=Approvals(marketing=approval, sales=approval),
        sla=Sla(accept_within_business_hours=hours, on_breach=on_breach),
        rejection_reasons=[
            RejectionReason(code="bad_timing", label="Not now", recycle=Recycle(action="nurture", wait_days=30)),
            RejectionReason(code="not_a_fit", label="Not a fit", recycle=Recycle(action="disqualify")),
        ],
        document={"account": {"committee": {"required_roles": ["decision_maker", "economic_buyer"]}}},
    )
    return new_event(data, key="default", time=at, source="lead_scoring")


def consume(engine: Engine, *events: Event[Any]) -> None:
    """Handle events as the `handoff` consumer group does, in one batch, and commit."""
    with SqlEventLog(engine).unit_of_work() as uow:
        handle_batch(list(events), uow)
        uow.commit()


def scheduler(engine: Engine, clock: Clock) -> Scheduler:
    """The real scheduler with handoff's timer handlers, on the test clock."""
    return Scheduler(uow=SqlEventLog(engine).unit_of_work(), handlers=timer_handlers(), clock=clock, owners=["handoff"])


def fire_until(engine: Engine, clock: Clock, until: datetime, step: timedelta = timedelta(minutes=15)) -> None:
    """Move the clock to `until` in steps, firing what falls due."""
    sched = scheduler(engine, clock)
    while clock.now < until:
        clock.now = min(until, clock.now + step)
        while sched.step():
            pass


def handoffs(engine: Engine) -> list[HandoffRecord]:
    """Every handoff, oldest first."""
    with SqlEventLog(engine).unit_of_work() as uow:
        rows = list(uow.session.scalars(select(HandoffRecord).order_by(HandoffRecord.created_at)))
        uow.session.expunge_all()
        return rows


def emitted(engine: Engine, *types: str) -> list[Event[Any]]:
    """Events handoff put on the outbox, in order, of `types` (all when none)."""
    with SqlEventLog(engine).unit_of_work() as uow:
        values = uow.session.scalars(select(OutboxRecord.value).order_by(OutboxRecord.position)).all()
    events = [decode(value) for value in values]
    wanted = {f"leadflow.{name}.v1" for name in types}
    return [event for event in events if not wanted or event.type in wanted]
