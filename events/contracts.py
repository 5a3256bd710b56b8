"""The committed contracts of leadflow's events: one JSON Schema per event type and the AsyncAPI document.

`contracts/examples/<type>.json` are hand-written and committed; export leaves them alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import events.catalog  # noqa: F401 - registers every event type
from events import topics
from events.envelope import Envelope
from events.limits import ACCOUNT_KEY, TIME_RANGE
from events.registry import HANDLER_ERROR, MALFORMED, REGISTRY, SCHEMA_VIOLATION, UNKNOWN_TYPE, EventType

CONTRACTS_DIR = "contracts"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
CONTENT_TYPE = "application/cloudevents+json"
KAFKA_BINDING_VERSION = "0.5.0"

TOPIC_DOCS: dict[str, str] = {
    topics.TOUCHES: "In from marketing automation: what prospects did (touches) and who they are.",
    topics.LEADS: "Out of lead_scoring: every score or stage change, qualifications and disqualifications.",
    topics.NURTURE_ACTIONS: "Out of nurture to marketing automation: enrollments, content to deliver, exits.",
    topics.HANDOFFS: "Out of handoff: qualified leads routed to sales reps under an SLA, and SLA breaches.",
    topics.FEEDBACK: "Sales' decisions back to marketing: accepted, rejected with a reason, opportunities won or lost.",
    topics.DEFINITIONS: "Published lead definitions: the contract between marketing and sales, in force from now on.",
}

SENDERS: dict[str, str] = {
    topics.TOUCHES: "marketing_automation",
    topics.LEADS: "lead_scoring",
    topics.NURTURE_ACTIONS: "nurture",
    topics.HANDOFFS: "handoff",
    topics.FEEDBACK: "handoff",
    topics.DEFINITIONS: "lead_scoring",
}


@dataclass(frozen=True)
class Subscription:
    """A service reading a topic; `types` narrows it to some event types (empty: every type on the topic)."""

    service: str
    topic: str
    types: tuple[str, ...] = ()
    why: str = ""


_ERASURE = ("leadflow.contact.erased.v1",)

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("lead_scoring", topics.TOUCHES, why="to match touches to contacts and accounts and score them"),
    Subscription("lead_scoring", topics.DEFINITIONS, why="to score with the definition in force"),
    Subscription(
        "lead_scoring",
        topics.FEEDBACK,
        (
            "leadflow.handoff.rejected.v1",
            "leadflow.opportunity.converted.v1",
            "leadflow.opportunity.closed.v1",
            "leadflow.account.insight.logged.v1",
        ),
        why="to recycle rejected leads, learn buying roles and keep outcomes beside the scores",
    ),
    Subscription("nurture", topics.LEADS, why="to enroll raw and engaged leads and end enrollments on qualification"),
    Subscription("nurture", topics.FEEDBACK, why="to re-enroll leads sales sent back"),
    Subscription("nurture", topics.TOUCHES, _ERASURE, why="to erase enrollments of forgotten contacts"),
    Subscription("handoff", topics.LEADS, why="to build a handoff from every qualified lead"),
    Subscription("handoff", topics.DEFINITIONS, why="to apply the SLA, rejection reasons and recycle policy in force"),
    Subscription("handoff", topics.TOUCHES, _ERASURE, why="to erase dossiers of forgotten contacts"),
    Subscription("marketing_automation", topics.NURTURE_ACTIONS, why="to deliver nurture content"),
    Subscription("marketing_automation", topics.FEEDBACK, why="to report sales' decisions on marketing's leads"),
)

PARTITIONING = (
    "Producers must choose the partition as the Java client does: murmur2 of the message key (with librdkafka, "
    "`partitioner=murmur2_random`; with kcat, `-X partitioner=murmur2_random`), so that one account key lands on "
    "one partition whoever produces it. librdkafka's default (consistent_random, CRC32) sends the same key "
    "elsewhere. The key is the account key, as each message's Kafka binding says."
)
"""What every producer must do, stated once in the AsyncAPI document and once per channel."""

LIMITS = (
    "Every string has a maximum length the consumers' database can hold and no NUL character, times lie between "
    "1970-01-01T00:00:00Z and 2199-12-31T23:59:59Z, numbers are finite: the JSON Schemas say so field by field."
)

DLQ_HEADERS: dict[str, str] = {
    "leadflow.dlq.reason": "Why: " + ", ".join((MALFORMED, SCHEMA_VIOLATION, UNKNOWN_TYPE, HANDLER_ERROR)) + ".",
    "leadflow.dlq.error": "The error, naming the field and the reason.",
    "leadflow.dlq.topic": "The topic the message was read from.",
    "leadflow.dlq.partition": "Its partition, as a decimal string.",
    "leadflow.dlq.offset": "Its offset, as a decimal string.",
}


def export_contracts(root: Path) -> list[Path]:
    """Write the event JSON Schemas and asyncapi.yaml under `root`/contracts; return the files written."""
    contracts = root / CONTRACTS_DIR
    schemas_dir = contracts / "events"
    schemas_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in sorted(REGISTRY):
        written.append(_write(schemas_dir / f"{name}.schema.json", _json_text(event_schema(REGISTRY[name]))))
    for stale in sorted(set(schemas_dir.glob("*.schema.json")) - set(written)):
        stale.unlink()
    written.append(_write(contracts / "asyncapi.yaml", _yaml_text(asyncapi_document())))
    return written


def event_schema(entry: EventType) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole CloudEvent of type `entry`, its data's `$defs` hoisted."""
    data = entry.data_model.model_json_schema()
    defs = data.pop("$defs", {})
    envelope = Envelope.model_json_schema()
    properties = envelope["properties"]
    properties["type"] = {"const": entry.name, "description": "The CloudEvents type.", "type": "string"}
    properties["dataschema"] = {
        "const": entry.dataschema,
        "description": properties["dataschema"]["description"],
        "type": "string",
    }
    properties["partitionkey"]["description"] = f"The Kafka message key: {entry.key_doc}."
    properties["data"] = data
    required = [
        *envelope["required"],
        *(field for field in ("partitionkey", "data") if field not in envelope["required"]),
    ]
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": entry.dataschema,
        "title": entry.name,
        "description": f"A {entry.name} CloudEvent on {entry.topic}. {data.get('description', '')}".strip(),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": envelope.get("additionalProperties", True),
    }
    if defs:
        schema["$defs"] = defs
    _state_time_ranges(schema)
    return schema


def _state_time_ranges(node: Any) -> None:
    """Say the range of every time in its description too, where people read first."""
    if isinstance(node, dict):
        ranged = any(
            alt.get("format") == "date-time" and "formatMaximum" in alt for alt in [node, *node.get("anyOf", ())]
        )
        if ranged and "description" in node and TIME_RANGE not in node["description"]:
            node["description"] = f"{node['description']} {TIME_RANGE}"
        for child in node.values():
            _state_time_ranges(child)
    elif isinstance(node, list):
        for child in node:
            _state_time_ranges(child)


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document: the Kafka server, a channel per topic and dead-letter topic, operations."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {"dead_letter": _dead_letter_message()}
    for topic in topics.ALL:
        entries = [REGISTRY[name] for name in sorted(REGISTRY) if REGISTRY[name].topic == topic]
        for entry in entries:
            messages[_message_id(entry.name)] = _message(entry)
        channels[_channel_id(topic)] = _channel(topic, entries)
        channels[_channel_id(topics.dead_letter_topic(topic))] = _dead_letter_channel(topic)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "leadflow events",
            "version": "1.0.0",
            "description": (
                "The events between marketing automation, lead_scoring, nurture and handoff. Every message is a "
                "CloudEvent 1.0 in structured JSON mode; its JSON Schema is contracts/events/<type>.schema.json. "
                f"{LIMITS}\n\nPartitioning: {PARTITIONING}"
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "A single-node KRaft broker, as scripts/test-services and docker-compose run it.",
            }
        },
        "channels": channels,
        "operations": _operations(),
        "components": {"messages": messages},
    }


def _channel(topic: str, entries: list[EventType]) -> dict[str, Any]:
    key_docs = {entry.key_doc for entry in entries}
    key_doc = key_docs.pop() if len(key_docs) == 1 else "per event type, see each message's Kafka binding"
    return {
        "address": topic,
        "title": topic,
        "description": f"{TOPIC_DOCS[topic]} Kafka message key: {key_doc}. Partitioner: murmur2 of the key "
        "(librdkafka `partitioner=murmur2_random`).",
        "messages": {
            _message_id(entry.name): {"$ref": f"#/components/messages/{_message_id(entry.name)}"} for entry in entries
        },
        "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _dead_letter_channel(topic: str) -> dict[str, Any]:
    dead_letter_topic = topics.dead_letter_topic(topic)
    return {
        "address": dead_letter_topic,
        "title": dead_letter_topic,
        "description": (
            f"Poison messages of {topic}: the original bytes and key, unchanged, with headers saying why "
            "(leadflow.dlq.*). Transient faults are retried, never dead-lettered."
        ),
        "messages": {"dead_letter": {"$ref": "#/components/messages/dead_letter"}},
        "bindings": {"kafka": {"topic": dead_letter_topic, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _message(entry: EventType) -> dict[str, Any]:
    summary = (entry.data_model.__doc__ or "").strip()
    return {
        "name": entry.name,
        "title": " ".join(entry.name.split(".")[1:-1]).replace("_", " ").capitalize().replace("sla", "SLA"),
        "summary": summary,
        "contentType": CONTENT_TYPE,
        "payload": {"$ref": f"events/{entry.name}.schema.json"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "maxLength": ACCOUNT_KEY,
                    "description": f"The message key: {entry.key_doc}; partitioned by its murmur2 hash.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "dead_letter",
        "title": "Dead letter",
        "summary": "A message a consumer could not handle, kept byte for byte with the reason.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": {name: {"type": "string", "description": doc} for name, doc in DLQ_HEADERS.items()},
            "required": list(DLQ_HEADERS),
        },
        "payload": {"type": "string", "format": "binary", "description": "The original message value, unchanged."},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The original message's key, unchanged."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operations() -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for topic in topics.ALL:
        sender = SENDERS[topic]
        operations[f"{sender}.send.{_channel_id(topic)}"] = _operation(
            "send", topic, (), f"{sender} publishes on {topic}."
        )
    for subscription in SUBSCRIPTIONS:
        for name in subscription.types:
            if name not in REGISTRY or REGISTRY[name].topic != subscription.topic:
                raise ValueError(
                    f"subscription of {subscription.service}: {name} is not an event type on {subscription.topic}"
                )
        channel = _channel_id(subscription.topic)
        summary = f"{subscription.service} reads {subscription.topic} {subscription.why}."
        operations[f"{subscription.service}.receive.{channel}"] = _operation(
            "receive", subscription.topic, subscription.types, summary
        )
        dead_letter_topic = topics.dead_letter_topic(subscription.topic)
        operations[f"{subscription.service}.send.{_channel_id(dead_letter_topic)}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_channel_id(dead_letter_topic)}"},
            "summary": f"{subscription.service} dead-letters messages of {subscription.topic} it can never handle.",
            "messages": [{"$ref": f"#/channels/{_channel_id(dead_letter_topic)}/messages/dead_letter"}],
        }
    return operations


def _operation(action: str, topic: str, types: tuple[str, ...], summary: str) -> dict[str, Any]:
    channel = _channel_id(topic)
    names = types or tuple(name for name in sorted(REGISTRY) if REGISTRY[name].topic == topic)
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{_message_id(name)}"} for name in names],
    }


def _channel_id(topic: str) -> str:
    return topic.removeprefix("leadflow.").replace(".", "_")


def _message_id(type_name: str) -> str:
    return type_name.removeprefix("leadflow.").replace(".", "_")


def _json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _yaml_text(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=True, indent=2, width=110, allow_unicode=True, default_flow_style=False)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
