"""The contract is enforced where it is published: decode, the committed JSON Schemas, HTTP ingest and
lead_scoring's handlers agree on what a producer may send, so a touch that is accepted is never dead-lettered
for its content."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine

from events.catalog.common import Email
from events.catalog.touches import TOUCH_TYPES
from events.emails import EMAIL_RULES
from events.limits import EARLIEST, LATEST
from events.registry import EventRejected, decode, encode
from services.lead_scoring.matching.normalise import InvalidEmail, normalise_email
from tests.lead_scoring.test_feedback import World

ROOT = Path(__file__).resolve().parents[1]
TOUCH = "leadflow.touch.recorded.v1"
IDENTIFIED = "leadflow.contact.identified.v1"


def example(name: str) -> dict[str, Any]:
    """The committed example of an event type."""
    document: dict[str, Any] = json.loads((ROOT / "contracts" / "examples" / f"{name}.json").read_text())
    return document


def schema_validator(name: str) -> Draft202012Validator:
    """A validator of the committed JSON Schema of an event type, formats checked."""
    schema = json.loads((ROOT / "contracts" / "events" / f"{name}.schema.json").read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def put(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change to a document: set the value at a dotted path (`data.contact`)."""

    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for part in parents:
            document = document[part]
        document[last] = value

    return change


# (event type, what is changed, the field the refusal must name)
OVER_THE_LIMIT = [
    (TOUCH, put("data.channel", "w" * 65), "data.channel"),
    (TOUCH, put("data.campaign", "c" * 201), "data.campaign"),
    (TOUCH, put("data.content_id", "i" * 201), "data.content_id"),
    (TOUCH, put("data.source_system", "s" * 51), "data.source_system"),
    (TOUCH, put("data.url", "https://x.example/" + "p" * 8192), "data.url"),
    (TOUCH, put("data.content_tags", ["tag"] * 101), "data.content_tags"),
    (TOUCH, put("data.properties", {f"p{i}": i for i in range(201)}), "data.properties"),
    (TOUCH, put("data.properties", {"k" * 201: 1}), "data.properties"),
    (TOUCH, put("data.properties", {"utm": "v" * 10_001}), "data.properties.utm"),
    (TOUCH, put("partitionkey", "k" * 321), "partitionkey"),
    (TOUCH, put("subject", "s" * 201), "subject"),
    (TOUCH, put("source", "urn:" + "s" * 200), "source"),
    (TOUCH, put("data.contact", {}), "data.contact"),
    (TOUCH, put("data.contact", {"external_ids": {"segment_user_id": ""}}), "data.contact"),
    (TOUCH, put("data.contact", {"external_ids": {"other": {"pardot": ""}}}), "data.contact.external_ids.other"),
    (TOUCH, put("data.contact", {"external_ids": {"crm_contact_id": "c" * 301}}), "data.contact.external_ids"),
    (TOUCH, put("data.contact", {"external_ids": {"other": {"s" * 51: "1"}}}), "data.contact.external_ids.other"),
    (IDENTIFIED, put("data.traits.employees", 10_000_001), "data.traits.employees"),
    (IDENTIFIED, put("data.traits.company", "c" * 301), "data.traits.company"),
    (IDENTIFIED, put("data.traits.title", "t" * 1001), "data.traits.title"),
    (IDENTIFIED, put("data.traits.custom", {"title": 3}), "data.traits"),
    (IDENTIFIED, put("data.account.domain", "not a domain"), "data.account.domain"),
    (IDENTIFIED, put("data.account.domain", "https://acme.com/about"), "data.account.domain"),
    (IDENTIFIED, put("data.account.crm_account_id", "a" * 201), "data.account.crm_account_id"),
]
NUL = [
    (TOUCH, put("data.channel", "web\x00"), "data.channel"),
    (TOUCH, put("data.properties", {"form": "a\x00b"}), "data.properties.form"),
    (TOUCH, put("data.properties", {"fo\x00rm": "ab"}), "data.properties"),
    (TOUCH, put("data.content_tags", ["ok", "n\x00"]), "data.content_tags.1"),
    (TOUCH, put("data.contact.external_ids", {"other": {"pardot": "1\x002"}}), "data.contact.external_ids.other"),
    (TOUCH, put("data.contact.external_ids", {"other": {"par\x00dot": "12"}}), "data.contact.external_ids.other"),
    (TOUCH, put("data.contact.email", "ann\x00@acme.com"), "data.contact.email"),
    (TOUCH, put("subject", "\x00"), "subject"),
    (IDENTIFIED, put("data.traits.custom", {"note": "\x00"}), "data.traits.custom.note"),
    (IDENTIFIED, put("data.traits.first_name", "Da\x00na"), "data.traits.first_name"),
]
TIMES = [
    (TOUCH, put("time", "9999-12-31T23:59:59Z"), "time"),
    (TOUCH, put("time", "1969-12-31T09:59:59Z"), "time"),
    (TOUCH, put("time", "2200-01-02T00:00:00+01:00"), "time"),
    (TOUCH, put("data.occurred_at", "9999-01-01T00:00:00Z"), "data.occurred_at"),
    (TOUCH, put("data.occurred_at", "1969-07-20T20:17:00Z"), "data.occurred_at"),
]


def _id(case: tuple[str, Callable[..., None], str]) -> str:
    return f"{case[0].split('.')[1]}-{case[2]}"


@pytest.mark.parametrize("case", OVER_THE_LIMIT + NUL + TIMES, ids=_id)
def test_decode_and_the_committed_json_schema_refuse_the_same_document_naming_the_field(
    case: tuple[str, Callable[[dict[str, Any]], None], str],
) -> None:
    name, change, field = case
    document = example(name)
    change(document)

    with pytest.raises(EventRejected) as rejected:
        decode(json.dumps(document).encode())
    assert (rejected.value.field or "").startswith(field), rejected.value
    assert not schema_validator(name).is_valid(document), "the JSON Schema accepts what decode refuses"


def test_a_nul_is_refused_with_a_reason_that_says_so() -> None:
    document = example(TOUCH)
    document["data"]["channel"] = "web\x00"
    with pytest.raises(EventRejected) as rejected:
        decode(json.dumps(document).encode())
    assert "data.channel: must not contain a NUL character" in str(rejected.value)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_by_decode_and_are_no_json_for_the_schema(number: str) -> None:
    text = json.dumps(example(TOUCH)).replace('"properties": {', f'"properties": {{"score": {number}, ', 1)
    with pytest.raises(EventRejected) as rejected:
        decode(text.encode())
    assert rejected.value.field == "data.properties.score"

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON (RFC 8259)")

    # A JSON Schema validates JSON: a strict parser refuses the document before any schema sees it.
    with pytest.raises(ValueError, match="is not JSON"):
        json.loads(text, parse_constant=refuse)


AT_THE_LIMIT = [
    (TOUCH, put("data.channel", "é" * 64)),
    (TOUCH, put("data.campaign", "c" * 200)),
    (TOUCH, put("data.source_system", "s" * 50)),
    (TOUCH, put("data.properties", {f"p{i}": "v" * 100 for i in range(200)})),
    (TOUCH, put("data.contact", {"external_ids": {"other": {"s" * 50: "i" * 300}}})),
    (TOUCH, put("time", "1970-01-01T00:00:00Z")),
    (TOUCH, put("time", "2199-12-31T23:59:59Z")),
    (TOUCH, put("partitionkey", "k" * 320)),
    (IDENTIFIED, put("data.traits.employees", 10_000_000)),
    (IDENTIFIED, put("data.traits.custom", {"title": "Ms", "score": 1.5, "n": 2**63 - 1})),
    (IDENTIFIED, put("data.account.domain", "xn--mnchen-3ya.de")),
]


@pytest.mark.parametrize("case", AT_THE_LIMIT, ids=lambda case: f"{case[0].split('.')[1]}")
def test_decode_and_the_committed_json_schema_accept_a_document_at_the_limit(
    case: tuple[str, Callable[[dict[str, Any]], None]],
) -> None:
    name, change = case
    document = example(name)
    change(document)
    decode(json.dumps(document).encode())
    errors = [f"{error.json_path}: {error.message[:80]}" for error in schema_validator(name).iter_errors(document)]
    assert not errors, errors


# --- What decode accepts, the handlers handle ------------------------------------------------------------------

ANY_CHARACTER = st.characters(codec="utf-8", exclude_characters="\x00")  # what JSON can carry, but NUL


def text(limit: int, *, min_size: int = 0) -> st.SearchStrategy[str]:
    """Any text up to `limit` characters, often exactly `limit` (any script, emoji, combining marks)."""
    short = st.text(ANY_CHARACTER, min_size=max(min_size, 1), max_size=12)
    return st.one_of(st.text(ANY_CHARACTER, min_size=min_size, max_size=12), short.map(lambda t: (t * limit)[:limit]))


def company_names() -> st.SearchStrategy[str]:
    """Company names up to 300 characters, among them names that grow when normalised (ß -> ss, ligatures)."""
    letters = st.characters(codec="ascii", exclude_characters="\x00") | st.sampled_from("éÅøçßﬃǅ")
    return st.one_of(
        st.text(letters, max_size=12), st.text(letters, min_size=1, max_size=12).map(lambda t: (t * 300)[:300])
    )


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The value, or nothing."""
    return st.one_of(st.none(), strategy)


OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30))])
TIMES_IN_RANGE = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None), max_value=LATEST.replace(tzinfo=None), timezones=OFFSETS
)
BOUNDARY_TIMES = st.sampled_from([EARLIEST, LATEST, EARLIEST.replace(tzinfo=timezone(timedelta(hours=14)))])
EVENT_TIMES = st.one_of(BOUNDARY_TIMES, TIMES_IN_RANGE).map(lambda moment: moment.isoformat())
EMAIL_ADAPTER: TypeAdapter[str] = TypeAdapter(Email)


def contract_accepts(email: str) -> bool:
    """Whether the contracts' Email type accepts an address."""
    try:
        EMAIL_ADAPTER.validate_python(email)
    except ValidationError:
        return False
    return True


# Addresses as producers write them: dots, +tags, gmail dots, letters of any script, odd domains.
WRITTEN_EMAILS = st.from_regex(r"\A[a-zA-Z0-9.+_é'-]{1,20}@[a-zA-Zü0-9.-]{1,20}\.[a-z]{2,5}\Z")
# A few people, so that examples meet the same contacts and accounts again (matching, merging, roll-up).
EMAILS = st.one_of(
    st.sampled_from(
        [
            "dana@acme-robotics.com",
            "lee@acme-robotics.com",
            "raj@gmail.com",
            "r.a.j+news@googlemail.com",
            "x@" + "d" * 60 + ".example",
            "é@xn--mnchen-3ya.de",
        ]
    ),
    WRITTEN_EMAILS.filter(contract_accepts),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False)
)


# Ids that several people meet: one browser's anonymous id, or a CRM id sent with another person's email.
SHARED_IDS = st.sampled_from(["anon-1", "crm-1", "i" * 300])


def an_id(limit: int) -> st.SearchStrategy[str]:
    """An id of up to `limit` characters: one that others have too, or a new one."""
    fresh = st.builds(lambda head, end: head[: limit - 32] + end, text(limit), st.uuids().map(lambda u: u.hex))
    return st.one_of(SHARED_IDS, fresh)


def ids() -> st.SearchStrategy[dict[str, Any]]:
    """External ids of a person."""
    return st.fixed_dictionaries(
        {},
        optional={
            "segment_anonymous_id": an_id(300),
            "crm_contact_id": an_id(300),
            "other": st.dictionaries(text(50), an_id(300), max_size=3),
        },
    )


@st.composite
def identity(draw: st.DrawFn) -> dict[str, Any]:
    """An email, ids, or both: anything but no one."""
    email = draw(optional(EMAILS))
    known_by = draw(ids())
    if email is None and not any(known_by.values()):  # {"other": {}} names no one
        known_by = {"segment_anonymous_id": draw(an_id(300))}
    return {"email": email, "external_ids": known_by} if email else {"external_ids": known_by}


@st.composite
def identified_data(draw: st.DrawFn) -> dict[str, Any]:
    """The data of a contact.identified."""
    email = draw(EMAILS)
    data: dict[str, Any] = draw(
        st.fixed_dictionaries({"source_system": text(50, min_size=1)}, optional=IDENTIFIED_OPTIONAL)
    )
    return {"email": email, **data, **draw(st.fixed_dictionaries({}, optional={"external_ids": ids()}))}


def envelope(name: str, data: dict[str, Any], time: str) -> dict[str, Any]:
    """A CloudEvent around `data`."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:test",
        "type": name,
        "time": time,
        "partitionkey": "k",
        "data": data,
    }


TOUCHES = st.builds(
    lambda time, data: envelope(TOUCH, data, time),
    EVENT_TIMES,
    st.fixed_dictionaries(
        {
            "touch_id": st.uuids().map(str),
            "contact": identity(),
            "touch_type": st.sampled_from(TOUCH_TYPES) | st.from_regex(r"\A[a-z][a-z0-9_]{0,63}\Z"),
            "source_system": text(50, min_size=1),
        },
        optional={
            "occurred_at": EVENT_TIMES,
            "channel": text(64),
            "campaign": text(200),
            "content_id": text(200),
            "content_tags": st.lists(text(200), max_size=100),
            "url": text(8192),
            "properties": st.dictionaries(text(200), SCALARS | text(10_000), max_size=200),
        },
    ),
)
TRAITS = st.fixed_dictionaries(
    {},
    optional={
        **{name: text(1000) for name in ("first_name", "last_name", "title", "industry", "phone", "city")},
        "company": company_names(),
        "employees": st.integers(0, 10_000_000),
        "country": st.from_regex(r"\A[A-Z]{2}\Z"),
        "marketing_consent": st.booleans(),
        "custom": st.dictionaries(text(200), SCALARS | text(1000), max_size=20),
    },
)
IDENTIFIED_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "traits": TRAITS,
    "account": st.fixed_dictionaries(
        {},
        optional={
            "company_name": company_names(),
            "crm_account_id": text(200),
            "domain": st.sampled_from(["acme-robotics.com", "a" * 63 + ".example", "www.acme-robotics.com"]),
        },
    ),
}
IDENTIFIES = st.builds(lambda time, data: envelope(IDENTIFIED, data, time), EVENT_TIMES, identified_data())


@pytest.fixture(params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest) -> World:
    """lead_scoring's handlers with the example definition published, on SQLite and on PostgreSQL."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return World(engine)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(st.one_of(TOUCHES, IDENTIFIES), min_size=1, max_size=4))
def test_every_event_decode_accepts_is_handled_without_raising(world: World, batch: list[dict[str, Any]]) -> None:
    documents = copy.deepcopy(batch)
    for document in documents:
        assert schema_validator(document["type"]).is_valid(document), "the schema refuses what decode accepts"
    world.handle(*(decode(json.dumps(document).encode()) for document in documents))


@pytest.mark.parametrize("email", ["a..b@acme.com", ".a@acme.com", "a.@acme.com", "+news@acme.com", "a@acme..com"])
def test_an_email_lead_scoring_cannot_normalise_is_refused_by_decode_naming_the_field(email: str) -> None:
    document = example(TOUCH)
    document["data"]["contact"]["email"] = email
    with pytest.raises(EventRejected) as rejected:
        decode(json.dumps(document).encode())
    assert rejected.value.field == "data.contact.email"
    assert "not a valid" in str(rejected.value) or "+tag" in str(rejected.value)
    with pytest.raises(InvalidEmail):
        normalise_email(email)


def email_schemas(node: Any) -> list[dict[str, Any]]:
    """Every schema with a pattern under a property named email, anywhere in a JSON Schema."""
    if isinstance(node, list):
        return [found for item in node for found in email_schemas(item)]
    if not isinstance(node, dict):
        return []
    found = [found for value in node.values() for found in email_schemas(value)]
    email = node.get("properties", {}).get("email") if isinstance(node.get("properties"), dict) else None
    branches = [email, *email.get("anyOf", [])] if email else []
    return found + [branch for branch in branches if "pattern" in branch]


@pytest.mark.parametrize("name", [TOUCH, IDENTIFIED])
def test_the_json_schema_says_what_is_checked_beyond_the_email_pattern(name: str) -> None:
    schema = json.loads((ROOT / "contracts" / "events" / f"{name}.schema.json").read_text())
    emails = email_schemas(schema)
    assert emails
    for email in emails:
        assert EMAIL_RULES in email["description"]


@given(email=st.one_of(WRITTEN_EMAILS, st.from_regex(r"\A[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+\Z")))
def test_the_contract_accepts_an_email_exactly_when_lead_scoring_can_normalise_it(email: str) -> None:
    try:
        normalise_email(email)
        normalised = True
    except InvalidEmail:
        normalised = False
    assert contract_accepts(email) == (normalised and len(email) <= 320)


# --- Over HTTP, ingest refuses what the consumer would ----------------------------------------------------------


def test_a_segment_batch_item_over_a_limit_is_rejected_naming_the_field_and_the_others_accepted(local_api: Any) -> None:
    track = json.loads((ROOT / "tests" / "lead_scoring" / "samples" / "segment_track.json").read_text())
    batch = [copy.deepcopy(track) for _ in range(3)]
    for index, call in enumerate(batch):
        call["messageId"] = f"m-{index}"
    batch[1]["properties"]["channel"] = "c" * 65
    batch[2]["properties"]["note"] = "NUL \x00 in a form answer"
    batch[2]["messageId"] = "m-2"
    batch.append({**copy.deepcopy(track), "messageId": "m-3", "timestamp": "9999-03-04T09:12:29Z"})

    response = local_api.call("POST", "/v1/touches", "marketing_automation", json={"batch": batch})

    assert response.status_code == 202, response.text
    body = response.json()
    assert [item["index"] for item in body["accepted"]] == [0]
    rejected = {item["index"]: item for item in body["rejected"]}
    assert rejected[1]["field"] == "batch[1].data.channel"
    assert "at most 64 characters" in rejected[1]["message"]
    assert rejected[2]["field"] == "batch[2].data.properties.note"
    assert "NUL" in rejected[2]["message"]
    assert rejected[3]["field"] == "batch[3].time"


@pytest.mark.parametrize("written", ["1970-01-01T00:00:00+14:00", "2199-12-31T23:59:59-12:00"])
def test_a_time_at_the_edge_of_the_range_is_still_taken_once_written_again_in_utc(written: str) -> None:
    document = example(TOUCH)
    document["time"] = written
    event = decode(json.dumps(document).encode())
    again = json.loads(encode(event))
    again["time"] = event.time.astimezone(UTC).isoformat()  # as lead_scoring writes it: the year is 1969 or 2200
    assert again["time"][:4] in ("1969", "2200")
    assert decode(json.dumps(again).encode()).time == event.time
