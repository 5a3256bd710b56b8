"""Which event types exist, the topic each travels on, and how raw bytes become a typed event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

from pydantic import Field, TypeAdapter, ValidationError, create_model

from events.catalog import CATALOG, EventSpec
from events.envelope import SOURCE_PREFIX, EnvelopeFields, EventData
from events.lean_schema import lean_validator, needs_nul_checks

D = TypeVar("D", bound=EventData)


@dataclass(frozen=True)
class EventType:
    """One event type of the contract: its CloudEvents `type`, topic and data model."""

    name: str
    topic: str
    data_model: type[EventData]
    key_doc: str
    # The whole CloudEvent of this type, `type` fixed and `data` typed: decoding is one validation pass.
    envelope_model: type[EnvelopeFields] = field(repr=False)

    @property
    def dataschema(self) -> str:
        """The `dataschema` URI: the committed JSON Schema file of this type."""
        return f"contracts/events/{self.name}.schema.json"


def _event_type(spec: EventSpec) -> EventType:
    """The registry's entry of one listed event type: the whole CloudEvent's model built once."""
    envelope_model = create_model(
        f"{spec.data_model.__name__}Event",
        __base__=EnvelopeFields,
        type=(Literal[spec.name], Field(description="The CloudEvents type.")),  # type: ignore[arg-type]
        data=(spec.data_model, Field(description="The event's data.")),
    )
    return EventType(
        name=spec.name, topic=spec.topic, data_model=spec.data_model, key_doc=spec.key, envelope_model=envelope_model
    )


def _registry(catalog: Sequence[EventSpec]) -> dict[str, EventType]:
    registry: dict[str, EventType] = {}
    for spec in catalog:
        if spec.name in registry:
            raise ValueError(f"event type {spec.name} listed twice")
        registry[spec.name] = _event_type(spec)
    return registry


REGISTRY: dict[str, EventType] = _registry(CATALOG)
"""Every event type, by CloudEvents `type`."""
_BY_MODEL: dict[type[EventData], EventType] = {entry.data_model: entry for entry in REGISTRY.values()}


def type_of(data: EventData) -> EventType:
    """The registered event type of a data object."""
    return _BY_MODEL[type(data)]


@dataclass(frozen=True, slots=True)
class Event(Generic[D]):
    """An envelope together with its typed data."""

    envelope: EnvelopeFields
    data: D

    @property
    def id(self) -> uuid.UUID:
        """The event id, the idempotency key."""
        return self.envelope.id

    @property
    def type(self) -> str:
        """The CloudEvents type."""
        return self.envelope.type

    @property
    def time(self) -> datetime:
        """When the fact happened: the only clock a handler may read."""
        return self.envelope.time

    @property
    def key(self) -> str:
        """The account key."""
        return self.envelope.partitionkey

    @property
    def topic(self) -> str:
        """The topic this event type travels on."""
        return REGISTRY[self.envelope.type].topic


def new_event(
    data: D,
    *,
    key: str,
    time: datetime,
    source: str,
    subject: str | None = None,
    event_id: uuid.UUID | None = None,
) -> Event[D]:
    """Wrap `data` in a new envelope; `source` is the emitting service, e.g. "lead_scoring"."""
    entry = type_of(data)
    envelope = entry.envelope_model(
        id=event_id or uuid.uuid4(),
        source=source if source.startswith("urn:") else f"{SOURCE_PREFIX}:{source}",
        type=entry.name,
        time=time,
        subject=subject,
        dataschema=entry.dataschema,
        partitionkey=key,
        data=data,
    )
    return Event(envelope=envelope, data=data)


def encode(event: Event[Any]) -> bytes:
    """The structured-mode JSON bytes of an event."""
    return event.envelope.model_dump_json(exclude_none=True).encode()


class EventRejected(Exception):  # noqa: N818 - a rejection is an outcome, not a bug
    """Raw bytes that can never become a valid event: the reason goes to the dead-letter queue."""

    def __init__(self, reason: str, detail: str, field: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.field = field  # the path of the offending field (e.g. data.channel), when one is to blame


MALFORMED = "malformed"
SCHEMA_VIOLATION = "schema_violation"
UNKNOWN_TYPE = "unknown_type"
TOMBSTONE = "tombstone"
HANDLER_ERROR = "handler_error"


def _event_decoder() -> TypeAdapter[Any]:
    """One validator for every registered type, dispatching on `type`."""
    models = tuple(entry.envelope_model for entry in REGISTRY.values())
    union = Annotated[Union[models], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(union)


_DECODER = _event_decoder()
# The same union with the Python checks that cannot fail on it left out (events.lean_schema): the fast path.
_LEAN_DECODER = lean_validator(_DECODER.core_schema)


def _rejection(error: ValidationError) -> EventRejected:
    """Why bytes are not a valid event, from pydantic's first error."""
    first = error.errors(include_url=False)[0]
    first["msg"] = first["msg"].removeprefix("Value error, ")  # the reason reads as a sentence of its own
    kind, loc = first["type"], first["loc"]
    if kind == "json_invalid":
        return EventRejected(MALFORMED, f"not JSON: {first['msg']}")
    if kind == "union_tag_invalid":
        return EventRejected(UNKNOWN_TYPE, f"unknown event type {first.get('ctx', {}).get('tag')!r}")
    if kind in ("union_tag_not_found", "model_attributes_type", "model_type", "dict_type") or len(loc) < 2:
        return EventRejected(MALFORMED, f"not a CloudEvent: {first['msg']}")
    path = ".".join(str(part) for part in loc[1:])
    if loc[1] == "data":
        return EventRejected(SCHEMA_VIOLATION, f"{path}: {first['msg']} (of {error.error_count()} errors)", path)
    return EventRejected(MALFORMED, f"not a CloudEvent: {path}: {first['msg']}", path)


def decode(raw: bytes | None) -> Event[EventData]:
    """Parse bytes into a typed event, or raise `EventRejected` naming why."""
    if raw is None:
        raise EventRejected(TOMBSTONE, "a record with no value: leadflow topics carry facts, never deletions")
    if isinstance(raw, bytes) and not needs_nul_checks(raw):
        try:
            envelope = _LEAN_DECODER.validate_json(raw)
        except ValidationError:
            pass  # the full decoder decides again, and its error is the one reported
        else:
            return Event(envelope, envelope.data)
    try:
        envelope = _DECODER.validate_json(raw)
    except ValidationError as error:
        raise _rejection(error) from None
    return Event(envelope, envelope.data)


def type_name(model: type[EventData]) -> str:
    """The CloudEvents type of an event data model."""
    return _BY_MODEL[model].name
