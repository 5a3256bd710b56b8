"""The stored history a simulation replays: loaded alike from PostgreSQL (psycopg's binary rows) and SQLite."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from events.catalog import ContactErased, ContactIdentified, HandoffAccepted, OpportunityClosed, TouchRecorded
from events.catalog.common import AccountHint, ContactIdentity, ContactTraits, ExternalIds, Recycle
from events.registry import Event, new_event
from services.lead_scoring.matching.resolve import NAMESPACE
from services.lead_scoring.simulation.repository import load_history
from services.lead_scoring.simulation.runner import AccountHistory, ContactHistory, History, Outcome
from tests.lead_scoring.test_feedback import T0, World, rejected

DANA, LEE = "dana.whitfield@acme-robotics.com", "lee.chen@acme-robotics.com"
ERIN, UMA = "erin.park@acme-robotics.com", "uma.singh@acme-robotics.com"
SAM = "sam@gmail.com"  # free mail and no company: a contact without an account
MAUTIC_ONLY = ExternalIds(mautic_contact_id="m-7")  # an anonymous Mautic contact, later found to be Dana
MERGED = uuid.uuid5(NAMESPACE, "contact:mautic_contact_id:m-7")
SINCE, END = T0 + timedelta(minutes=60), T0 + timedelta(days=1)


def minutes(count: float) -> datetime:
    """`count` minutes after T0."""
    return T0 + timedelta(minutes=count)


def at(count: float, data: Any) -> Event[Any]:
    """An event `count` minutes after T0."""
    return new_event(data, key="acme-robotics.com", time=minutes(count), source="test")


def contact_id(email: str) -> uuid.UUID:
    """The id the handlers give a contact first seen by its email."""
    return uuid.uuid5(NAMESPACE, f"contact:{email}")


def identified(email: str, count: float, *, company: str | None = "Acme Robotics GmbH", **traits: Any) -> Event[Any]:
    """An identify of a person at a manufacturer in Germany; with `ids`, known by external ids too."""
    ids = traits.pop("ids", ExternalIds())
    traits = {"title": "VP Operations", "industry": "manufacturing", "employees": 850, "country": "DE", **traits}
    hint = AccountHint(company_name=company)
    data = ContactIdentified(
        email=email, external_ids=ids, traits=ContactTraits(**traits), account=hint, source_system="test"
    )
    return at(count, data)


def touched(number: int, count: float, who: str | ExternalIds, touch_type: str, **fields: Any) -> Event[Any]:
    """Touch `number` (its id is uuid `number`), by an email or by external ids alone; from segment unless told."""
    identity = ContactIdentity(external_ids=who) if isinstance(who, ExternalIds) else ContactIdentity(email=who)
    fields.setdefault("source_system", "segment")
    return at(count, TouchRecorded(touch_id=uuid.UUID(int=number), contact=identity, touch_type=touch_type, **fields))


def decided(count: float, email: str, model: type[Any], **fields: Any) -> Event[Any]:
    """Sales' decision on a lead."""
    lead = contact_id(email)
    return at(count, model(handoff_id=uuid.uuid4(), lead_id=lead, contact_id=lead, rep_id=uuid.uuid4(), **fields))


HISTORY = [
    identified(DANA, 0),
    identified(LEE, 0, title="Analyst"),
    identified(ERIN, 0, marketing_consent=True),
    identified(UMA, 0, title="Director of IT"),
    identified(SAM, 0, company=None, title="Consultant"),
    touched(1, 1, DANA, "page_view", channel="web", content_tags=["pricing", "bofu"], url="https://x.io/pricing"),
    touched(2, 2, MAUTIC_ONLY, "email_open", channel="email", campaign="nurture-q4", source_system="mautic"),
    identified(DANA, 3, ids=MAUTIC_ONLY),  # the Mautic contact is Dana: merged into her, its touch now hers
    touched(3, 10, LEE, "webinar_attended", channel="webinar", source_system="mautic"),
    touched(4, 11, ERIN, "content_download", content_tags=["whitepaper"], source_system="hubspot"),
    touched(5, 12, UMA, "email_click", channel="email", source_system="mautic"),
    at(20, ContactErased(email=ERIN, requested_at=minutes(20), source_system="privacy-portal")),
    touched(6, 30, UMA, "unsubscribe", channel="email", source_system="mautic"),
    # From here on, inside the `since` window (but touch 12, a late import of a touch before it).
    touched(7, 70, SAM, "demo_request", channel="web", source_system="form_backend"),
    touched(8, 90, DANA, "demo_request", channel="web"),
    touched(9, 95, LEE, "content_download", content_tags=["guide", "bofu"], source_system="hubspot"),
    touched(10, 100, UMA, "page_view", channel="web", occurred_at=minutes(99.504167)),  # microseconds are kept
    touched(12, 110, LEE, "event_badge_scan", source_system="salesforce", occurred_at=minutes(5)),
    decided(120, DANA, HandoffAccepted, within_sla=True),
    rejected(SAM, 130, "not_a_fit", Recycle(action="disqualify")),
    decided(60 * 30, DANA, OpportunityClosed, opportunity_id=uuid.uuid4(), outcome="won"),  # after END: loaded too
    touched(11, 60 * 25, DANA, "page_view", channel="web"),  # after END: not loaded
]


def store(engine: Engine) -> None:
    """Write the history through lead_scoring's handlers (the example definition published), an event per batch."""
    world = World(engine)
    for event in HISTORY:
        world.handle(event)


def loaded(engine: Engine, **window: Any) -> History:
    """What a simulation would replay."""
    with Session(engine) as session:
        return load_history(session, end=END, **window)


def in_time_order(history: History) -> History:
    """Each contact's touches (with their sources) in scoring order. The order they are loaded in is not part of
    the contract (the replay's ledger sorts them, and finds a source by touch id) and differs: SQLite reads them
    through the index on occurred_at, in time order, PostgreSQL in the order they were stored (a late import last).
    """

    def ordered(contact: ContactHistory) -> ContactHistory:
        pairs = sorted(zip(contact.touches, contact.source_systems, strict=True), key=lambda pair: pair[0].order)
        return replace(contact, touches=tuple(t for t, _ in pairs), source_systems=tuple(s for _, s in pairs))

    return History(tuple(replace(a, contacts=tuple(map(ordered, a.contacts))) for a in history.accounts))


def by_email(history: History) -> dict[str | None, ContactHistory]:
    """The contacts of a history by email (the erased one has none left)."""
    return {contact.email: contact for account in history.accounts for contact in account.contacts}


def touch_numbers(contact: ContactHistory) -> list[int]:
    """The numbers `touched` gave the contact's touches."""
    return [uuid.UUID(touch.touch_id).int for touch in contact.touches]


def test_postgresql_and_sqlite_load_the_same_history(postgres_engine: Engine, sqlite_engine: Engine) -> None:
    store(postgres_engine)
    store(sqlite_engine)

    for window in ({}, {"since": SINCE}):
        on_postgres, on_sqlite = loaded(postgres_engine, **window), loaded(sqlite_engine, **window)
        assert in_time_order(on_postgres) == in_time_order(on_sqlite), window
        for history in (on_postgres, on_sqlite):
            touches = [t for account in history.accounts for c in account.contacts for t in c.touches]
            assert touches
            assert all(t.occurred_at.tzinfo is UTC for t in touches)

    history = in_time_order(loaded(postgres_engine))
    contacts = by_email(history)
    dana, lee, erin, uma, sam = (contacts[email] for email in (DANA, LEE, None, UMA, SAM))
    acme, alone = history.accounts
    assert acme.attributes == {
        "industry": "manufacturing", "employees": 850, "country": "DE", "domain": "acme-robotics.com",
        "name": "Acme Robotics GmbH",
    }  # fmt: skip
    assert acme.contacts == tuple(sorted((dana, lee, erin, uma), key=lambda contact: contact.contact_id))
    assert alone == AccountHistory(None, None, (sam,))
    assert MERGED not in {contact.contact_id for contact in contacts.values()}
    assert [t.touch_id for t in dana.touches] == [str(uuid.UUID(int=n)) for n in (1, 2, 8)]  # 2: the merged one's
    assert dana.source_systems == ("segment", "mautic", "segment")
    assert (dana.touches[0].content_tags, dana.touches[1].campaign) == (("pricing", "bofu"), "nurture-q4")
    assert (touch_numbers(lee), lee.source_systems) == ([12, 3, 9], ("salesforce", "mautic", "hubspot"))
    assert dana.outcomes == (Outcome("accepted", minutes(120)), Outcome("won", minutes(60 * 30)))
    assert sam.outcomes == (Outcome("rejected", minutes(130), "not_a_fit"),)
    assert (erin.contact_id, erin.touches, erin.attributes, erin.consent.erased) == (contact_id(ERIN), (), {}, True)
    assert uma.touches[-1].occurred_at == minutes(99.504167)
    assert not uma.consent.unsubscribed, "its unsubscribe touch is loaded: the replay unsubscribes it there"

    recent = by_email(loaded(postgres_engine, since=SINCE))
    assert {email: touch_numbers(contact) for email, contact in recent.items()} == {
        DANA: [8],
        LEE: [9],
        None: [],
        UMA: [10],
        SAM: [7],
    }
    assert recent[UMA].consent.unsubscribed, "its unsubscribe touch is before the window: unsubscribed from the start"
