"""The CloudEvents 1.0 envelope (structured JSON mode) every leadflow event travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from events.limits import EventTime, Text200, Text320, Url

SOURCE_PREFIX = "urn:leadflow"


class EventData(BaseModel):
    """Base of every event's `data`: strict about unknown fields, so a typo is a contract violation."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvelopeFields(BaseModel):
    """The context attributes of a CloudEvent; `partitionkey` (the partitioning extension) is the account key."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(description="Unique per event; the idempotency key of every consumer.")
    source: Text200 = Field(min_length=1, description="Who emitted the event, e.g. urn:leadflow:lead_scoring.")
    type: str = Field(
        max_length=200, pattern=r"^leadflow\.[a-z_]+(\.[a-z_]+)+\.v[0-9]+$", description="leadflow.<entity>.<fact>.v<N>"
    )
    time: EventTime = Field(description="When the fact happened; handlers take their time from here.")
    subject: Text200 | None = Field(
        default=None, description="The entity the event is about (contact id, handoff id, ...)."
    )
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Url | None = Field(
        default=None, description="The committed JSON Schema of the event: contracts/events/<type>.schema.json."
    )
    partitionkey: Text320 = Field(min_length=1, description="The account key: ordering and partitioning key.")


class Envelope(EnvelopeFields):
    """A CloudEvent of any type, with its data as plain JSON (what the contracts describe in general)."""

    data: dict[str, Any]


def utc_now() -> datetime:
    """The wall clock, in UTC; only for stamping new facts, never inside a handler's decision."""
    return datetime.now(UTC)
