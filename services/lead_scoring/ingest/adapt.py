"""Ingest: what marketing automation sends (CloudEvents, Segment calls, Mautic, HubSpot and Marketo) as events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import ValidationError

import events.catalog  # noqa: F401 - registers every type, so leadflow's own types are named, not "unknown"
from events.catalog.touches import ContactErased, ContactIdentified, TouchRecorded
from events.envelope import Envelope, EventData
from events.registry import REGISTRY, Event, EventRejected, decode, encode
from services.lead_scoring.ingest.adapters.hubspot import (
    hubspot_form_items,
    hubspot_items,
    is_hubspot_form,
    is_hubspot_webhook,
)
from services.lead_scoring.ingest.adapters.marketo import is_marketo_activities, marketo_items
from services.lead_scoring.ingest.adapters.mautic import mautic_items
from services.lead_scoring.ingest.adapters.segment import SEGMENT_CALLS, segment_items, touch_type_of
from services.lead_scoring.ingest.adapters.support import (
    IngestError,
    Item,
    ItemRejected,
    checked_email,
    identity_key,
    ingest_event_id,
    join,
)
from services.lead_scoring.matching.domain import external_id_pairs

__all__ = [
    "CLOUDEVENTS",
    "CLOUDEVENTS_BATCH",
    "INGEST_TYPES",
    "AcceptedItem",
    "IngestError",
    "IngestResult",
    "adapt",
    "ingest_event_id",
    "is_mautic_webhook",
    "touch_type_of",
]

CLOUDEVENTS = "application/cloudevents+json"
CLOUDEVENTS_BATCH = "application/cloudevents-batch+json"
JSON = "application/json"
INGEST_TYPES = tuple(
    name for name, entry in REGISTRY.items() if entry.data_model in (TouchRecorded, ContactIdentified, ContactErased)
)
"""The event types marketing automation may send in; everything else is leadflow's own output."""


@dataclass(frozen=True)
class AcceptedItem:
    """An item of the request that was accepted, where it was, and the ids of the events it became."""

    item: str
    index: int | None
    event_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class IngestResult:
    """What became of a request: the events to publish, the errors of rejected items, and which items were accepted."""

    accepted: list[Event[Any]]
    rejected: list[IngestError]
    accepted_items: list[AcceptedItem]


def adapt(
    content_type: str, body: Any, received_at: datetime, *, known_emails: Mapping[str, str] | None = None
) -> IngestResult:
    """Turn a parsed ingest body into events, item by item: a bad item never costs the valid ones.

    `known_emails`: the emails of contacts already known by a HubSpot id, for HubSpot webhooks (which carry none).
    """
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    try:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type == JSON and is_hubspot_webhook(body):
            items = hubspot_items(body, received_at, known_emails or {})
        else:
            items = _items(media_type, body, received_at)
    except ItemRejected as rejection:
        return IngestResult([], [IngestError(f, m) for f, m in rejection.errors], [])
    accepted: list[Event[Any]] = []
    rejected: list[IngestError] = []
    accepted_items: list[AcceptedItem] = []
    for item in items:
        try:
            events = _adapted(item)
        except ItemRejected as rejection:
            rejected.extend(IngestError(field, message, item.index) for field, message in rejection.errors)
            continue
        accepted.extend(events)
        accepted_items.append(AcceptedItem(item.location or "body", item.index, tuple(e.id for e in events)))
    return IngestResult(accepted, rejected, accepted_items)


def _adapted(item: Item) -> list[Event[Any]]:
    """An item's events as consumers will read them, or ItemRejected naming the field and the reason."""
    try:
        return [_as_consumers_read_it(event, item.location) for event in item.adapt()]
    except ValidationError as error:  # a model built from the payload refused a value
        raise _pydantic_errors(error, item.location) from None


def _as_consumers_read_it(event: Event[Any], location: str) -> Event[Any]:
    """The event as every consumer will read it back from the log: encoded, then decoded by their own decoder.
    What the consumer would refuse is refused here, so a 202 never turns into a dead letter for its content."""
    try:
        return decode(encode(event))
    except EventRejected as rejection:
        field = join(location, rejection.field) if rejection.field else location or "body"
        reason = rejection.detail.removeprefix(f"{rejection.field}: ") if rejection.field else rejection.detail
        raise ItemRejected(field, reason) from None


def _items(media_type: str, body: Any, received_at: datetime) -> list[Item]:
    """Detect the format from the content type and the body's shape, and split the body into items."""
    if media_type == CLOUDEVENTS:
        return [Item("", None, partial(_cloudevent, body, ""))]
    if media_type == CLOUDEVENTS_BATCH or (media_type == JSON and isinstance(body, list)):
        if not isinstance(body, list):
            raise ItemRejected("body", "a CloudEvents batch must be a JSON array of CloudEvents")
        return [Item(join("", i), i, partial(_cloudevent, event, join("", i))) for i, event in enumerate(body)]
    if media_type != JSON:
        expected = ", ".join((JSON, CLOUDEVENTS, CLOUDEVENTS_BATCH))
        raise ItemRejected("content-type", f"{media_type or '(none)'} is not accepted: send one of {expected}")
    if not isinstance(body, dict):
        raise ItemRejected("body", "must be a JSON object or array")
    if is_mautic_webhook(body):
        return mautic_items(body, received_at)
    if is_hubspot_form(body):
        return hubspot_form_items(body, received_at)
    if is_marketo_activities(body):
        return marketo_items(body, received_at)
    if "specversion" in body:
        return [Item("", None, partial(_cloudevent, body, ""))]
    if (
        (isinstance(body.get("type"), str) and body["type"] in SEGMENT_CALLS)
        or "messageId" in body
        or isinstance(body.get("batch"), list)
    ):
        return segment_items(body, received_at)
    raise ItemRejected(
        "body",
        "is not a CloudEvent (no specversion), a Segment call (no type and messageId), a Mautic webhook "
        "(no mautic.* key), a HubSpot form submission (no fields) or Marketo activities (no result)",
    )


def is_mautic_webhook(body: object) -> bool:
    """Whether a body is a Mautic webhook: an object keyed by mautic.* event types."""
    return isinstance(body, dict) and any(isinstance(key, str) and key.startswith("mautic.") for key in body)


def _pydantic_errors(error: ValidationError, prefix: str) -> ItemRejected:
    errors = []
    for detail in error.errors():
        path = join(prefix, ".".join(map(str, detail["loc"])))
        # The contract's email pattern is a regex: say what it means.
        is_email = detail["type"] == "string_pattern_mismatch" and detail["loc"][-1:] == ("email",)
        message = detail["msg"].removeprefix("Value error, ")
        errors.append((path, "value is not a valid email address" if is_email else message))
    return ItemRejected(*errors[0], *errors[1:])


def _data_email(data: dict[str, Any]) -> tuple[object, tuple[str, ...]]:
    contact = data.get("contact")
    if isinstance(contact, dict):
        return contact.get("email"), ("contact", "email")
    return data.get("email"), ("email",)


def _cloudevent(raw: object, path: str) -> list[Event[Any]]:
    """A CloudEvent checked as `events.registry.decode` does, plus ingest's rules; the key follows the rule."""
    if not isinstance(raw, dict):
        raise ItemRejected(path or "body", f"must be a CloudEvent JSON object (got {type(raw).__name__})")
    # The key is leadflow's to decide: a sender may leave partitionkey out, and its value is replaced below.
    document = {**raw, "partitionkey": raw.get("partitionkey") or "-"}
    try:
        envelope = Envelope.model_validate(document)
    except ValidationError as error:
        raise _pydantic_errors(error, path) from None
    entry = REGISTRY.get(envelope.type)
    if entry is None or envelope.type not in INGEST_TYPES:
        known = "unknown event type" if entry is None else "not accepted at ingest"
        raise ItemRejected(join(path, "type"), f"{envelope.type} is {known} (send one of {', '.join(INGEST_TYPES)})")
    data_path = join(path, "data")
    email, email_loc = _data_email(envelope.data)
    checked_email(email, join(data_path, ".".join(email_loc)))
    try:
        data: EventData = entry.data_model.model_validate(envelope.data)
    except ValidationError as error:
        raise _pydantic_errors(error, data_path) from None
    document["partitionkey"] = _key_of(data, data_path)
    # The event itself comes from decode: exactly what every consumer will read back from the log.
    try:
        return [decode(json.dumps(document).encode())]
    except EventRejected as rejection:
        raise ItemRejected(path or "body", str(rejection)) from None


def _key_of(data: EventData, data_path: str) -> str:
    if isinstance(data, TouchRecorded):
        return identity_key(data.contact.email, data.contact.external_ids, join(data_path, "contact"))
    if isinstance(data, ContactErased) and data.contact_id and not (data.email or external_id_pairs(data.external_ids)):
        return str(data.contact_id)
    if isinstance(data, ContactIdentified | ContactErased):
        return identity_key(data.email, data.external_ids, data_path)
    raise ItemRejected(data_path, f"{type(data).__name__} is not accepted at ingest")
