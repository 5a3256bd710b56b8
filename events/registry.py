"""Which event types exist, the topic each travels on, and how raw bytes become a typed event."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from events.envelope import SOURCE_PREFIX, Envelope, EventData

D = TypeVar("D", bound=EventData)
T = TypeVar("T", bound=type[EventData])


@dataclass(frozen=True)
class EventType:
    """One event type of the contract: its CloudEvents `type`, topic and data model."""

    name: str
    topic: str
    data_model: type[EventData]
    key_doc: str

    @property
    def dataschema(self) -> str:
        """The `dataschema` URI: the committed JSON Schema file of this type."""
        return f"contracts/events/{self.name}.schema.json"


ACCOUNT_KEY = (
    "the account key (the account id, else the corporate email domain, else the email for free-mail addresses)"
)

REGISTRY: dict[str, EventType] = {}
_BY_MODEL: dict[type[EventData], EventType] = {}


def event_type(name: str, *, topic: str, key: str = ACCOUNT_KEY) -> Callable[[T], T]:
    """Register an `EventData` model as the data of event type `name`, published on `topic`, keyed by `key`."""

    def register(model: T) -> T:
        if name in REGISTRY:
            raise ValueError(f"event type {name} registered twice")
        entry = EventType(name=name, topic=topic, data_model=model, key_doc=key)
        REGISTRY[name] = entry
        _BY_MODEL[model] = entry
        return model

    return register


def type_of(data: EventData) -> EventType:
    """The registered event type of a data object."""
    return _BY_MODEL[type(data)]


@dataclass(frozen=True)
class Event(Generic[D]):
    """An envelope together with its typed data."""

    envelope: Envelope
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
    envelope = Envelope(
        id=event_id or uuid.uuid4(),
        source=source if source.startswith("urn:") else f"{SOURCE_PREFIX}:{source}",
        type=entry.name,
        time=time,
        subject=subject,
        dataschema=entry.dataschema,
        partitionkey=key,
        data=data.model_dump(mode="json"),
    )
    return Event(envelope=envelope, data=data)


def encode(event: Event[Any]) -> bytes:
    """The structured-mode JSON bytes of an event."""
    return event.envelope.model_dump_json(exclude_none=True).encode()


class EventRejected(Exception):  # noqa: N818 - a rejection is an outcome, not a bug
    """Raw bytes that can never become a valid event: the reason goes to the dead-letter queue."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


MALFORMED = "malformed"
SCHEMA_VIOLATION = "schema_violation"
UNKNOWN_TYPE = "unknown_type"
HANDLER_ERROR = "handler_error"


def _first_error(error: ValidationError, prefix: str = "") -> str:
    """`field.path: message` of the first error, readable in a dead-letter row."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    return f"{prefix}{location}: {first['msg']} (of {error.error_count()} errors)"


def decode(raw: bytes) -> Event[EventData]:
    """Parse bytes into a typed event, or raise `EventRejected` naming why."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EventRejected(MALFORMED, f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise EventRejected(MALFORMED, "not a JSON object")
    try:
        envelope = Envelope.model_validate(document)
    except ValidationError as error:
        raise EventRejected(MALFORMED, "not a CloudEvent: " + _first_error(error)) from None
    entry = REGISTRY.get(envelope.type)
    if entry is None:
        raise EventRejected(UNKNOWN_TYPE, f"unknown event type {envelope.type!r}")
    try:
        data = entry.data_model.model_validate(envelope.data)
    except ValidationError as error:
        raise EventRejected(SCHEMA_VIOLATION, _first_error(error, prefix="data.")) from None
    return Event(envelope=envelope, data=data)
