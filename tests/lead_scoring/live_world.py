"""A seeded world for the live = simulation property test: ~1,500 contacts in ~200 accounts, a definition that uses
every part of the schema, and a time-ordered stream of identifies, buying roles, touches and sales rejections."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from events.catalog import AccountInsightLogged, ContactIdentified, HandoffRejected, TouchRecorded
from events.catalog.common import AccountHint, ContactIdentity, ContactTraits, Recycle
from events.registry import Event, new_event
from services.lead_scoring.definitions.document import LeadDefinition, parse_definition
from services.lead_scoring.matching.resolve import NAMESPACE
from tests.lead_scoring.test_definition_api import ROOT

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # the first touch comes after it; every identify before it
DAYS = 200
SOURCE = "urn:test:live-sim"
INDUSTRIES = ["software", "manufacturing", "logistics", "retail", "wholesale", "healthcare", "education"]
EMPLOYEES = [5, 30, 120, 800, 2500, 9000]
COUNTRIES = ["US", "DE", "FR", "GB", "NO", "BR", "JP"]
COMPETITORS = ["rivalsoft.com", "flowcompete.io"]
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com"]
# (title, seniority, job function): the fit rules read all three.
TITLES = [
    ("VP Operations", "vp", "operations"),
    ("Director of IT", "director", "it"),
    ("Head of Supply Chain", "director", "supply_chain"),
    ("CFO", "c_level", "finance"),
    ("CEO", "c_level", "executive"),
    ("Operations Manager", "manager", "operations"),
    ("Engineer", "individual", "engineering"),
    ("Analyst", "individual", "operations"),
    ("Marketing Manager", "manager", "marketing"),
    ("Intern", "intern", None),
]
ROLES = ["decision_maker"] * 4 + ["economic_buyer", "champion", "influencer", "user"]
# Touch type, weight, the content tags it may carry. unsubscribe is ~1%; demo_request and contact_sales raise hands.
TOUCH_TYPES: list[tuple[str, float, list[tuple[str, ...]]]] = [
    ("page_view", 30, [(), (), (), (), ("bofu",), ("careers",)]),
    ("email_open", 20, [()]),
    ("email_click", 8, [()]),
    ("content_download", 8, [("whitepaper",), ("guide",), ("bofu",), ()]),
    ("webinar_registered", 4, [()]),
    ("webinar_attended", 3, [()]),
    ("pricing_page_view", 5, [()]),
    ("event_badge_scan", 2, [()]),
    ("email_bounce", 0.5, [()]),
    ("demo_request", 1, [()]),
    ("contact_sales", 0.5, [()]),
    ("unsubscribe", 0.85, [()]),
]
CHANNELS = {"page_view": "web", "pricing_page_view": "web", "content_download": "web", "event_badge_scan": "event"}
CAMPAIGNS = [None, "q1-launch", "webinar-series", "trade-show", "nurture-not-now"]


def definition_document() -> dict[str, Any]:
    """The example definition, with one engagement rule on a half-life of its own: every part of the schema is used
    (fit rules and grades, two half-lives, decay false, negative points, caps, a hand-raiser with within_days and
    min_fit_grade, min_account_score, the committee, competitor and consent disqualifiers, recycle with wait_days)."""
    document: dict[str, Any] = yaml.safe_load((ROOT / "config/lead_definition.example.yaml").read_text())
    document["name"] = "live = simulation"
    for rule in document["engagement"]["rules"]:
        if rule["id"] == "eng.webinar_attended":
            rule["half_life_days"] = 75  # beside the section's 30
    return document


def check_exercised(definition: LeadDefinition) -> None:
    """Fail if the definition no longer uses a part of the schema the test must exercise."""
    rules = definition.engagement.rules
    committee = definition.account.committee
    wanted = {
        "two half-lives": definition.engagement.half_life_days is not None and any(r.half_life_days for r in rules),
        "decay false": any(not rule.decay for rule in rules),
        "negative points": any(rule.points < 0 for rule in rules),
        "cap": any(rule.cap for rule in rules),
        "hand-raiser": any(h.within_days and h.min_fit_grade for h in definition.hand_raisers),
        "min_account_score": definition.mql.min_account_score is not None,
        "committee": definition.mql.committee_required and bool(committee.required_roles),
        "min_engaged_contacts": committee.min_engaged_contacts > 0,
        "competitor": any(d.kind == "competitor_domain" for d in definition.disqualifiers),
        "no consent": any(d.kind == "no_consent" for d in definition.disqualifiers),
        "recycle wait": any(policy.wait_days for policy in definition.recycle.values()),
    }
    missing = [name for name, present in wanted.items() if not present]
    assert not missing, f"the definition no longer exercises: {', '.join(missing)}"


@dataclass(frozen=True)
class Person:
    """A contact of the world: its email, account key (domain, or the email for free-mail) and activity weight."""

    email: str
    key: str
    domain: str | None  # None: a free-mail contact, with no account
    weight: float

    @property
    def contact_id(self) -> uuid.UUID:
        """The id lead_scoring gives the contact (matching.resolve.new_contact_id)."""
        return uuid.uuid5(NAMESPACE, f"contact:{self.email}")

    @property
    def account_id(self) -> uuid.UUID | None:
        """The id of the account lead_scoring creates for its domain."""
        return uuid.uuid5(NAMESPACE, f"account:domain:{self.domain}") if self.domain else None


@dataclass(frozen=True)
class World:
    """The people and, in time order, the events to feed: identification first, then activity."""

    people: list[Person]
    identification: list[Event[Any]]
    activity: list[Event[Any]]
    start: datetime
    end: datetime


def build(seed: int, touches: int, rejections: int = 300) -> World:
    """A seeded world with `touches` touches and `rejections` handoff.rejected events over DAYS days."""
    rng = random.Random(seed)
    people, identification = _people(rng)
    definition = parse_definition(definition_document())
    weights = [person.weight for person in people]
    total = touches + rejections
    seconds = sorted(rng.sample(range(1, DAYS * 86_400), total))  # distinct instants: one time order
    rejected_at = set(rng.sample(range(total), rejections))
    activity: list[Event[Any]] = []
    for index, second in enumerate(seconds):
        at = T0 + timedelta(seconds=second)
        person = rng.choices(people, weights)[0]  # active people are touched and rejected more
        make = _rejection if index in rejected_at else _touch
        activity.append(make(rng, person, at, definition))
    return World(people, identification, activity, T0 - timedelta(days=1), T0 + timedelta(days=DAYS, seconds=1))


def _people(rng: random.Random) -> tuple[list[Person], list[Event[Any]]]:
    sizes = [200, 120, 80, 50] + [min(15, 2 + int(rng.expovariate(1 / 3.5))) for _ in range(196)]
    domains = [*COMPETITORS, *(f"account{number}.example" for number in range(len(sizes) - len(COMPETITORS)))]
    rng.shuffle(sizes)
    people: list[Person] = []
    events: list[Event[Any]] = []
    at = T0 - timedelta(hours=12)
    for domain, size in zip(domains, sizes, strict=True):
        company = {"industry": rng.choice(INDUSTRIES), "employees": rng.choice(EMPLOYEES)}
        company["country"] = rng.choice(COUNTRIES)
        for number in range(size):
            person = Person(f"person{number}@{domain}", domain, domain, _weight(rng))
            people.append(person)
            hint = AccountHint(company_name=f"Company {domain}")
            events.append(_identified(rng, person, at := at + timedelta(seconds=1), company, hint))
    for number in range(50):
        email = f"someone{number}@{rng.choice(FREE_MAIL)}"
        person = Person(email, email, None, _weight(rng))
        people.append(person)
        events.append(_identified(rng, person, at := at + timedelta(seconds=1), {}, AccountHint()))
    for person in people:  # sales knows the buying roles of some (an insight per contact, before any touch)
        if person.domain and rng.random() < 0.15:
            events.append(_role(rng, person, rng.choice(ROLES), at := at + timedelta(seconds=1)))
    return people, events


def _weight(rng: random.Random) -> float:
    return min(rng.paretovariate(1.1), 150.0)  # skewed: a few people are very active, most are not


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _identified(
    rng: random.Random, person: Person, at: datetime, company: dict[str, Any], hint: AccountHint
) -> Event[ContactIdentified]:
    title, seniority, function = rng.choice(TITLES)
    consent = rng.choices([True, None, False], [50, 47, 3])[0]
    traits = ContactTraits(
        title=title, seniority=seniority, job_function=function, marketing_consent=consent, **company
    )
    data = ContactIdentified(email=person.email, traits=traits, account=hint, source_system="crm")
    return new_event(data, key=person.key, time=at, source=SOURCE, event_id=_uuid(rng))


def _role(rng: random.Random, person: Person, role: str, at: datetime) -> Event[AccountInsightLogged]:
    assert person.account_id is not None
    data = AccountInsightLogged(
        insight_id=_uuid(rng),
        account_id=person.account_id,
        contact_id=person.contact_id,
        buying_role=role,
        logged_by="rep@seller.example",
    )
    return new_event(data, key=person.key, time=at, source=SOURCE, event_id=_uuid(rng))


def _touch(rng: random.Random, person: Person, at: datetime, definition: LeadDefinition) -> Event[TouchRecorded]:
    touch_type, _, tags = rng.choices(TOUCH_TYPES, [kind[1] for kind in TOUCH_TYPES])[0]
    data = TouchRecorded(
        touch_id=_uuid(rng),
        occurred_at=at,
        contact=ContactIdentity(email=person.email),
        touch_type=touch_type,
        channel=CHANNELS.get(touch_type, "email"),
        campaign=rng.choice(CAMPAIGNS),
        content_tags=list(rng.choice(tags)),
        source_system=rng.choice(["mautic", "hubspot"]),
    )
    return new_event(data, key=person.key, time=at, source=SOURCE, event_id=_uuid(rng))


def _rejection(rng: random.Random, person: Person, at: datetime, definition: LeadDefinition) -> Event[HandoffRejected]:
    reason = rng.choice(sorted(definition.recycle))
    policy = definition.recycle[reason]
    data = HandoffRejected(
        handoff_id=_uuid(rng),
        lead_id=person.contact_id,
        contact_id=person.contact_id,
        account_id=person.account_id,
        rep_id=_uuid(rng),
        reason_code=reason,
        recycle=Recycle(action=policy.action, track_id=policy.track_id, wait_days=policy.wait_days),
        definition_version=1,
    )
    return new_event(data, key=person.key, time=at, source=SOURCE, event_id=_uuid(rng))
