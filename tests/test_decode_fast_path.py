"""decode's fast path (the lean twin of the decoder, events.lean_schema) changes nothing but the speed: what it
accepts the full decoder accepts with an equal event, and every rejection is the full decoder's own."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events import registry
from events.lean_schema import lean, needs_nul_checks
from events.limits import TIME_BOUNDS, check_time_range, refuse_nul
from events.registry import EventRejected, _rejection, decode

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {path.stem: path.read_text() for path in sorted((ROOT / "contracts/examples").glob("*.json"))}
TOUCH = json.loads(EXAMPLES["leadflow.touch.recorded.v1"])
IDENTIFIED = json.loads(EXAMPLES["leadflow.contact.identified.v1"])
DAY = 86_400


def full_outcome(raw: bytes) -> tuple[str, Any]:
    """What the full decoder alone makes of `raw`: the envelope, or the rejection's reason, detail and field."""
    try:
        return "event", registry._DECODER.validate_json(raw)
    except ValidationError as error:
        rejected = _rejection(error)
        return "rejected", (rejected.reason, rejected.detail, rejected.field)


def outcome(raw: bytes) -> tuple[str, Any]:
    """What decode makes of `raw`, in the same terms."""
    try:
        return "event", decode(raw).envelope
    except EventRejected as rejected:
        return "rejected", (rejected.reason, rejected.detail, rejected.field)


def python_checks(schema: Any) -> list[Any]:
    """The functions of every function-after node of a core schema."""
    if isinstance(schema, list | tuple):
        return [found for item in schema for found in python_checks(item)]
    if not isinstance(schema, dict):
        return []
    own = [schema["function"]["function"]] if schema.get("type") == "function-after" else []
    return own + [found for key, value in schema.items() if key != "metadata" for found in python_checks(value)]


def test_the_twin_leaves_out_every_check_a_rule_knows_and_keeps_the_others() -> None:
    full = python_checks(registry._DECODER.core_schema)
    twin = python_checks(lean(registry._DECODER.core_schema))
    names = {getattr(check, "__name__", getattr(getattr(check, "func", None), "__name__", "")) for check in twin}
    assert refuse_nul in full
    assert check_time_range in full
    assert refuse_nul not in twin
    assert check_time_range not in twin
    assert "min_length_validator" not in names
    assert {"valid_email", "_not_just_www", "_names_someone"} <= names, "checks no rule knows must stay"


def test_the_twin_runs_checks_of_its_own_not_the_models_prebuilt_ones() -> None:
    # pydantic-core reuses a complete model's own validator for a model node, whatever the node's schema says.
    document = json.loads(json.dumps(TOUCH))
    document["data"]["source_system"] = ""
    with pytest.raises(ValidationError) as refused:
        registry._LEAN_DECODER.validate_json(json.dumps(document))
    assert refused.value.errors()[0]["type"] == "string_too_short", "pydantic-core's own min_length, not Python's"
    assert registry.REGISTRY[TOUCH["type"]].data_model.__pydantic_complete__, "the models are complete again"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_takes_the_fast_path_to_the_same_event(name: str) -> None:
    raw = EXAMPLES[name].encode()
    fast = registry._LEAN_DECODER.validate_json(raw)
    assert fast == registry._DECODER.validate_json(raw)
    assert type(fast.data) is registry.REGISTRY[name].data_model


@pytest.mark.parametrize("text", ["\x00", "web\x00", "a\x00b"])
def test_a_nul_anywhere_sends_the_document_to_the_full_checks(text: str) -> None:
    document = json.loads(json.dumps(TOUCH))
    document["data"]["properties"] = {"k": text}
    assert needs_nul_checks(json.dumps(document).encode())
    assert not needs_nul_checks(json.dumps(TOUCH).encode())


text = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", " ", "\x00", "web\x00", "x" * 50, "x" * 51, "x" * 64, "x" * 65, "é" * 64, "é" * 65]),
)
OFFSETS = ["Z", "+14:00", "-14:00", "+13:59", "-13:59", "+23:59", "-23:59", "+00:30", ""]


def near(instant: datetime, seconds: int, offset: str) -> str:
    """`instant` moved by `seconds`, written in `offset` (the last seconds before a bound, or the first after)."""
    zone = UTC if offset in ("Z", "") else timezone(timedelta(hours=int(offset[:3]), minutes=int(offset[4:])))
    moment = (instant + timedelta(seconds=seconds)).astimezone(zone)
    return moment.replace(tzinfo=None).isoformat() + offset


times = st.one_of(
    st.builds(near, st.sampled_from(TIME_BOUNDS), st.integers(-2 * DAY, 2 * DAY), st.sampled_from(OFFSETS)),
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-01-05T09:00:00+01:00", "now"]),
)
emails = st.sampled_from(
    ["ann@acme.com", "ANN@Acme.COM", "a@b", "+x@acme.com", "ann@www.com", "ann@xn--mnchen-3ya.de", "ann@acme..com"]
)
TOUCH_FIELDS = ["channel", "campaign", "content_id", "source_system", "touch_type", "url", "source_touch_id"]


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A touch or a contact.identified event with a few fields pushed to their edges (valid or not)."""
    document: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from([TOUCH, IDENTIFIED]))))
    document["id"] = str(uuid.uuid4())
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["data", "envelope", "time", "email", "properties"]))
        if where == "time":
            document["time"] = draw(times)
            if "touch_type" in document["data"] and draw(st.booleans()):
                document["data"]["occurred_at"] = draw(times)
        elif where == "envelope":
            document[draw(st.sampled_from(["source", "partitionkey", "subject", "dataschema"]))] = draw(text)
        elif where == "email":
            target = document["data"]["contact"] if "contact" in document["data"] else document["data"]
            target["email"] = draw(emails)
        elif where == "properties" and "properties" in document["data"]:
            document["data"]["properties"] = draw(st.dictionaries(text, text, max_size=3))
        elif "touch_type" in document["data"]:
            document["data"][draw(st.sampled_from(TOUCH_FIELDS))] = draw(text)
        else:
            document["data"]["traits"] = {draw(st.sampled_from(["first_name", "title", "city"])): draw(text)}
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode()


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_decode_and_the_full_decoder_agree_on_every_document(raw: bytes) -> None:
    assert outcome(raw) == full_outcome(raw)
