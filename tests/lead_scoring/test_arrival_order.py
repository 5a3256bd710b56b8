"""An account's events split over two partitions and read by two consumers of one group, in any interleaving and
out of time order, end in the leads that handling them one by one in time order gives, each qualified once a cycle.

Producers outside leadflow may partition by another hash than ours (librdkafka's CRC32, not murmur2), so one
account's touches can land on two partitions. The reference handles every event in time order, one per
transaction; the run under test handles each partition's events in its own arbitrary order, as batches of random
sizes taken by two consumers in turn, each batch one transaction as the event log's Processor does.

"The same final state", for a lead: the same stage, fit, grade, engagement and account scores, and reason (but an
MQL's). A lead row holds its scores as of its last evaluation, and the reference evaluates a contact last at its own
latest event: so both runs end with one identify of every contact after every touch, as a CRM sync would send.
Qualification: for touches that only add points, the same lead.qualified events (one per lead and cycle) and the
same cycles; `mql_at` is the first instant of the account's history, as known when the lead qualified, that meets
the criteria: the reference's, or later when what qualified it arrived late, or earlier when a contact's fit
(timeless: who they are) was known before an older touch arrived. With late unsubscribes and careers pages, a
lead.qualified already announced stands (the lead is disqualified after), and a late hand-raise does not qualify
a lead disqualified since: the final leads are the same, cycles may differ.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from database import migrate
from database.engine import make_engine
from eventlog.backends import SqlEventLog
from eventlog.models import OutboxRecord
from events.catalog import ContactIdentified, TouchRecorded
from events.catalog.common import AccountHint, ContactIdentity, ContactTraits
from events.registry import Event, decode, new_event
from services.lead_scoring.leads.handlers import handle_batch
from services.lead_scoring.models import Contact, Lead
from tests.lead_scoring.test_feedback import T0, World

ACCOUNTS = [
    ("acme-robotics.com", "Acme Robotics GmbH", {"industry": "manufacturing", "employees": 850, "country": "DE"}),
    ("northwind.io", "Northwind Logistics", {"industry": "logistics", "employees": 120, "country": "GB"}),
    ("tinyco.net", "Tinyco", {"industry": "education", "employees": 5, "country": "BR"}),
]
PEOPLE = [("dana", "VP Operations"), ("lee", "Director of IT"), ("sam", "Analyst")]
# Touches that only add points, and those that take some away or disqualify (page_view tagged careers).
POSITIVE = ["webinar_attended", "pricing_page_view", "email_open", "email_click", "demo_request", "contact_sales"]
NEGATIVE = ["page_view", "unsubscribe"]
WEEKS = 3
# Each example runs two databases of up to ~50 transactions: in memory (tmpfs) where there is one, fsync is the cost.
MEMORY = "/dev/shm" if Path("/dev/shm").is_dir() else None
QUALIFIED = "leadflow.lead.qualified.v1"


@st.composite
def worlds(draw: st.DrawFn, touch_types: Sequence[str]) -> list[Event[Any]]:
    """An account or three, a few contacts each identified, and 5-40 touches over a few weeks, in time order."""
    accounts = draw(st.lists(st.sampled_from(range(len(ACCOUNTS))), min_size=1, max_size=3, unique=True))
    contacts = [
        (account, person)
        for account in accounts
        for person in draw(st.lists(st.sampled_from(range(len(PEOPLE))), min_size=1, max_size=3, unique=True))
    ]
    # Distinct minutes: the reference's time order is then one order, not one of several.
    span = WEEKS * 7 * 24 * 60
    count = draw(st.integers(min_value=5, max_value=40))
    size = count + len(contacts)
    minutes = draw(st.lists(st.integers(1, span), min_size=size, max_size=size, unique=True))
    events: list[Event[Any]] = []
    for index, contact in enumerate(contacts):
        events.append(_identified(contact, minutes[index]))
    for minute in minutes[len(contacts) :]:
        contact = draw(st.sampled_from(contacts))
        touch_type = draw(st.sampled_from(touch_types))
        tags = draw(st.sampled_from([(), ("bofu",), ("careers",)] if touch_type == "page_view" else [()]))
        events.append(_touched(contact, minute, touch_type, tags))
    return sorted(events, key=lambda event: event.time)


def _email(contact: tuple[int, int]) -> str:
    return f"{PEOPLE[contact[1]][0]}@{ACCOUNTS[contact[0]][0]}"


def _identified(contact: tuple[int, int], minute: int) -> Event[ContactIdentified]:
    domain, company, traits = ACCOUNTS[contact[0]]
    data = ContactIdentified(
        email=_email(contact),
        traits=ContactTraits(title=PEOPLE[contact[1]][1], **traits),
        account=AccountHint(company_name=company),
        source_system="test",
    )
    return new_event(data, key=domain, time=T0 + timedelta(minutes=minute), source="test")


def _touched(contact: tuple[int, int], minute: int, touch_type: str, tags: tuple[str, ...]) -> Event[TouchRecorded]:
    at = T0 + timedelta(minutes=minute)
    data = TouchRecorded(
        touch_id=uuid.uuid5(uuid.NAMESPACE_URL, f"touch:{minute}"),
        contact=ContactIdentity(email=_email(contact)),
        touch_type=touch_type,
        occurred_at=at,
        content_tags=list(tags),
        source_system="test",
    )
    return new_event(data, key=ACCOUNTS[contact[0]][0], time=at, source="test")


def _sync(events: Sequence[Event[Any]]) -> list[Event[Any]]:
    """One identify of every contact after the last touch: each lead is then evaluated at one time in both runs."""
    last = max(event.time for event in events)
    identifies = {event.data.email: event for event in events if isinstance(event.data, ContactIdentified)}
    return [
        new_event(event.data, key=event.key, time=last + timedelta(minutes=1 + index), source="crm")
        for index, event in enumerate(identifies.values())
    ]


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    """A migrated SQLite file with the example definition published, copied for each run (migrating is slow)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        World(engine)
        engine.dispose()
        yield path


def _run(template: Path, batches: Sequence[Sequence[Event[Any]]]) -> tuple[dict[str | None, Any], list[Any]]:
    """Handle the batches in order, one transaction each; the leads by email, and the lead.qualified events."""
    with tempfile.TemporaryDirectory(dir=MEMORY) as folder:
        path = Path(folder) / "run.db"
        shutil.copy(template, path)
        engine = make_engine(f"sqlite:///{path}")
        log = SqlEventLog(engine)
        for batch in batches:
            with log.unit_of_work() as uow:
                handle_batch(batch, uow)
                uow.commit()
        with log.unit_of_work() as uow:
            leads = {
                email: (
                    lead.stage,
                    lead.reason,
                    lead.fit_score,
                    lead.fit_grade,
                    lead.engagement_score,
                    lead.account_score,
                    lead.qualification_cycle,
                    lead.mql_at,
                    lead.cycle_started_at,
                )
                for email, lead in uow.session.execute(
                    select(Contact.email, Lead).join(Lead, Lead.contact_id == Contact.id)
                )
            }
            qualified = [
                decode(value).data
                for value in uow.session.scalars(
                    select(OutboxRecord.value)
                    .where(OutboxRecord.event_type == QUALIFIED)
                    .order_by(OutboxRecord.position)
                )
            ]
        engine.dispose()
    return leads, qualified


@st.composite
def deliveries(draw: st.DrawFn, events: Sequence[Event[Any]]) -> list[list[Event[Any]]]:
    """The events split over two partitions, each in an arbitrary order, read as batches by two consumers in turn."""
    sides = draw(st.lists(st.booleans(), min_size=len(events), max_size=len(events)))
    partitions = [
        list(draw(st.permutations([event for event, side in zip(events, sides, strict=True) if side == part])))
        for part in (False, True)
    ]
    batches: list[list[Event[Any]]] = []
    while any(partitions):
        consumer = draw(st.sampled_from([index for index, queue in enumerate(partitions) if queue]))
        size = draw(st.integers(min_value=1, max_value=6))
        batches.append(partitions[consumer][:size])
        del partitions[consumer][:size]
    return batches


def _per_cycle(qualified: Sequence[Any]) -> Counter[tuple[uuid.UUID, int]]:
    return Counter((data.lead_id, data.qualification_cycle) for data in qualified)


def _without_qualification(leads: dict[str | None, Any]) -> dict[str | None, Any]:
    """Stage, fit, grade, engagement and account scores, and the reason but an MQL's (why it qualified first)."""
    return {email: (lead[0], *lead[2:6], None if lead[0] == "mql" else lead[1]) for email, lead in leads.items()}


def _handle_both(template: Path, data: st.DataObject, touch_types: Sequence[str]) -> tuple[Any, ...]:
    """A world's events, then the leads and lead.qualified events of the reference and of the run under test."""
    events = data.draw(worlds(touch_types), label="events")
    sync = _sync(events)
    batches = data.draw(deliveries(events), label="batches")
    reference = _run(template, [[event] for event in [*events, *sync]])
    return (events, *reference, *_run(template, [*batches, sync]))


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_touches_that_add_points_qualify_the_same_leads_once_whatever_their_partition_and_order(
    template: Path, data: st.DataObject
) -> None:
    events, reference_leads, reference_qualified, leads, qualified = _handle_both(template, data, POSITIVE)

    assert max(_per_cycle(qualified).values(), default=1) == 1
    assert _per_cycle(qualified) == _per_cycle(reference_qualified)
    assert _without_qualification(leads) == _without_qualification(reference_leads)
    assert {email: lead[6] for email, lead in leads.items()} == {
        email: lead[6] for email, lead in reference_leads.items()
    }  # the qualification cycles
    instants = {event.time for event in events}
    for email, lead in leads.items():
        assert (lead[7] is None) == (reference_leads[email][7] is None)
        assert lead[7] is None or lead[7] in instants  # an instant of the history, not of a batch's arrival


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_late_unsubscribes_and_careers_page_views_end_in_the_same_leads_qualified_at_most_once_a_cycle(
    template: Path, data: st.DataObject
) -> None:
    _, reference_leads, _, leads, qualified = _handle_both(template, data, POSITIVE + NEGATIVE)

    assert max(_per_cycle(qualified).values(), default=1) == 1
    # A qualification announced is not taken back by a late unsubscribe (the lead is disqualified instead), and a
    # late hand-raise of a lead disqualified since does not qualify it: cycles may differ, the leads do not.
    assert _without_qualification(leads) == _without_qualification(reference_leads)


def test_touches_arriving_newest_first_qualify_the_lead_at_the_instant_they_add_up(template: Path) -> None:
    dana, lee = (0, 0), (0, 1)
    day = 24 * 60
    identifies: list[Event[Any]] = [_identified(dana, 1), _identified(lee, 2)]
    touches: list[Event[Any]] = [
        *(_touched(lee, minute, "webinar_attended", ()) for minute in (10, 20)),
        *(_touched(dana, minute, "webinar_attended", ()) for minute in (day, 2 * day, 3 * day)),
        _touched(dana, 3 * day + 60, "pricing_page_view", ()),
    ]
    in_order = [[event] for event in [*identifies, *touches]]
    newest_first = [identifies, *([event] for event in reversed(touches))]

    reference_leads, reference_qualified = _run(template, in_order)
    leads, qualified = _run(template, newest_first)

    assert [(data.reason, data.qualification_cycle) for data in qualified] == [("criteria", 1)]
    assert [data.lead_id for data in qualified] == [data.lead_id for data in reference_qualified]
    # Scored as of the latest touch, never as of the older one that arrived last; qualified when the touches add up.
    assert leads[_email(dana)] == reference_leads[_email(dana)]
