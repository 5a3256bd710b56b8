"""The committed contracts in contracts/ match the code, and the examples in them are valid events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from events import topics
from events.registry import (
    MALFORMED,
    REGISTRY,
    SCHEMA_VIOLATION,
    UNKNOWN_TYPE,
    EventRejected,
    decode,
    encode,
    new_event,
)
from leadflow.contracts import export_all

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
TYPES = sorted(REGISTRY)
REGENERATE = "run `leadflow contracts export` and commit the changes in contracts/"


def _example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CONTRACTS / "examples" / f"{name}.json").read_text())
    return document


def _schema(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CONTRACTS / "events" / f"{name}.schema.json").read_text())
    return document


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The contracts export writes today, by path relative to the repo root."""
    root = tmp_path_factory.mktemp("repo")
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in export_all(root)}


@pytest.fixture(scope="module")
def asyncapi() -> dict[str, Any]:
    """The committed AsyncAPI document."""
    document: dict[str, Any] = yaml.safe_load((CONTRACTS / "asyncapi.yaml").read_text())
    return document


def test_committed_contracts_are_exactly_what_export_writes(regenerated: dict[str, bytes]) -> None:
    differing = sorted(
        path
        for path, content in regenerated.items()
        if not (ROOT / path).is_file() or (ROOT / path).read_bytes() != content
    )
    assert not differing, f"contracts missing or out of date: {differing}; {REGENERATE}"


def test_no_committed_schema_lacks_a_registered_event_type(regenerated: dict[str, bytes]) -> None:
    committed = {path.relative_to(ROOT).as_posix() for path in (CONTRACTS / "events").glob("*.schema.json")}
    extra = sorted(committed - set(regenerated))
    assert not extra, f"schemas of unregistered event types: {extra}; {REGENERATE}"


def test_export_is_deterministic(tmp_path: Path, regenerated: dict[str, bytes]) -> None:
    again = {path.relative_to(tmp_path).as_posix(): path.read_bytes() for path in export_all(tmp_path)}
    assert again == regenerated


@pytest.mark.parametrize("name", TYPES)
def test_every_event_type_has_a_schema_an_example_and_an_asyncapi_message(name: str, asyncapi: dict[str, Any]) -> None:
    assert (CONTRACTS / "events" / f"{name}.schema.json").is_file(), REGENERATE
    assert (CONTRACTS / "examples" / f"{name}.json").is_file(), f"write an example: contracts/examples/{name}.json"
    messages = {message["name"]: message for message in asyncapi["components"]["messages"].values()}
    assert messages[name]["payload"] == {"$ref": f"events/{name}.schema.json"}
    channels = {channel["address"]: channel for channel in asyncapi["channels"].values()}
    channel_messages = channels[REGISTRY[name].topic]["messages"].values()
    assert any(ref["$ref"].endswith("/" + name.removeprefix("leadflow.").replace(".", "_")) for ref in channel_messages)


@pytest.mark.parametrize("topic", topics.ALL)
def test_asyncapi_names_every_topic_and_its_dead_letter_topic(topic: str, asyncapi: dict[str, Any]) -> None:
    addresses = {channel["address"] for channel in asyncapi["channels"].values()}
    assert topic in addresses
    assert topics.dead_letter_topic(topic) in addresses


@pytest.mark.parametrize("name", TYPES)
def test_example_is_valid_against_its_committed_json_schema(name: str) -> None:
    schema = _schema(name)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(_example(name))]
    assert not errors, errors


@pytest.mark.parametrize("name", TYPES)
def test_example_decodes_into_its_typed_event(name: str) -> None:
    example = _example(name)
    event = decode(json.dumps(example).encode())
    assert event.type == name
    assert isinstance(event.data, REGISTRY[name].data_model)
    assert event.key == example["partitionkey"]


@pytest.mark.parametrize("name", TYPES)
def test_event_the_code_emits_is_valid_against_the_committed_json_schema(name: str) -> None:
    decoded = decode(json.dumps(_example(name)).encode())
    emitted = new_event(decoded.data, key=decoded.key, time=decoded.time, source=decoded.envelope.source)
    errors = [error.message for error in Draft202012Validator(_schema(name)).iter_errors(json.loads(encode(emitted)))]
    assert not errors, errors


@pytest.mark.parametrize("name", TYPES)
def test_json_schema_rejects_an_example_without_partition_key(name: str) -> None:
    example = _example(name)
    del example["partitionkey"]
    assert not Draft202012Validator(_schema(name)).is_valid(example)


@pytest.mark.parametrize("name", TYPES)
def test_json_schema_rejects_an_unknown_data_field_as_the_model_does(name: str) -> None:
    example = _example(name)
    example["data"]["surprise"] = 1
    assert not Draft202012Validator(_schema(name)).is_valid(example)
    with pytest.raises(EventRejected) as rejected:
        decode(json.dumps(example).encode())
    assert rejected.value.reason == SCHEMA_VIOLATION


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"type": "leadflow.touch.recorded.v1"}'])
def test_decode_rejects_bytes_that_are_no_cloudevent_as_malformed(raw: bytes) -> None:
    with pytest.raises(EventRejected) as rejected:
        decode(raw)
    assert rejected.value.reason == MALFORMED


def test_decode_rejects_data_that_violates_the_schema_naming_the_field() -> None:
    example = _example("leadflow.lead.scored.v1")
    example["data"]["fit_grade"] = "E"
    with pytest.raises(EventRejected) as rejected:
        decode(json.dumps(example).encode())
    assert rejected.value.reason == SCHEMA_VIOLATION
    assert "data.fit_grade" in rejected.value.detail


def test_decode_rejects_an_unregistered_event_type() -> None:
    example = _example("leadflow.touch.recorded.v1")
    example["type"] = "leadflow.touch.teleported.v1"
    with pytest.raises(EventRejected) as rejected:
        decode(json.dumps(example).encode())
    assert rejected.value.reason == UNKNOWN_TYPE


def test_asyncapi_tells_producers_to_partition_the_account_key_with_murmur2(asyncapi: dict[str, Any]) -> None:
    assert "partitioner=murmur2_random" in asyncapi["info"]["description"]
    assert "account key" in asyncapi["info"]["description"]
    for channel in asyncapi["channels"].values():
        if not channel["address"].endswith(".dlq"):
            assert "murmur2" in channel["description"], channel["address"]
