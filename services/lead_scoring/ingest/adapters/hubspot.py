"""HubSpot as its developer documentation shows it: webhook deliveries (contact.creation, contact.propertyChange)
and form submissions (the body of the Forms API's "submit data to a form"), as leadflow events.

A webhook event names the contact by its HubSpot id and carries one property. leadflow needs an email to know a
person: the email comes from an `email` property change of the same delivery, or from a contact already known
by that HubSpot id (`known_emails`); an event of a contact with neither is rejected, saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from events.catalog.common import AccountHint, ExternalIds
from events.catalog.touches import ContactIdentified, TouchRecorded
from events.limits import JsonScalar
from events.registry import Event
from services.lead_scoring.ingest.adapters.support import (
    Doc,
    Item,
    ItemRejected,
    build,
    checked_email,
    contact_traits,
    identity_key,
    ingest_event_id,
    join,
    make_event,
)

HUBSPOT = "hubspot"
CONTACT_EVENTS = ("contact.creation", "contact.propertyChange")
# HubSpot's default contact properties, by the trait they are.
_TRAITS = {
    "firstname": "first_name",
    "lastname": "last_name",
    "jobtitle": "title",
    "phone": "phone",
    "mobilephone": "phone",
    "company": "company",
    "industry": "industry",
    "numemployees": "employees",
    "country": "country",
    "city": "city",
    "hs_linkedin_url": "linkedin_url",
}


def is_hubspot_webhook(body: object) -> bool:
    """Whether a body is a HubSpot webhook delivery: an array of events with a subscriptionType."""
    return isinstance(body, list) and bool(body) and isinstance(body[0], dict) and "subscriptionType" in body[0]


def is_hubspot_form(body: Mapping[str, Any]) -> bool:
    """Whether a body is a HubSpot form submission: `fields` as name/value pairs, with `context` or `submittedAt`."""
    return isinstance(body.get("fields"), list) and ("context" in body or "submittedAt" in body)


def hubspot_contact_ids(body: object) -> set[str]:
    """The HubSpot contact ids a webhook delivery names, to look up the emails of contacts already known."""
    if not isinstance(body, list) or not is_hubspot_webhook(body):
        return set()
    return {str(event["objectId"]) for event in body if isinstance(event, dict) and event.get("objectId") is not None}


def hubspot_items(body: list[Any], received_at: datetime, known_emails: Mapping[str, str]) -> list[Item]:
    """One item per webhook event; each contact's email is found in the delivery or among known contacts."""
    emails: dict[str, object] = dict(known_emails)
    for event in body:
        if isinstance(event, dict) and event.get("propertyName") == "email" and event.get("objectId") is not None:
            emails[str(event["objectId"])] = event.get("propertyValue")
    return [
        Item(join("", index), index, partial(_webhook_event, event, join("", index), received_at, emails))
        for index, event in enumerate(body)
    ]


def _millis(doc: Doc, key: str) -> datetime:
    value = doc.get(key)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 7_258_118_400_000:
        raise ItemRejected(doc.at(key), f"must be milliseconds since 1970 (got {value!r})")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _webhook_event(raw: object, path: str, received_at: datetime, emails: Mapping[str, object]) -> list[Event[Any]]:
    event = Doc.of(raw, path)
    kind = event.need_text("subscriptionType")
    if kind not in CONTACT_EVENTS:
        raise ItemRejected(event.at("subscriptionType"), f"{kind} is not ingested (send {', '.join(CONTACT_EVENTS)})")
    contact_id = event.need_text("objectId")
    time = _millis(event, "occurredAt")
    email = checked_email(emails.get(contact_id), event.at("propertyValue"))
    if email is None:
        raise ItemRejected(
            event.at("objectId"),
            f"HubSpot contact {contact_id} has no known email: subscribe to contact.propertyChange for email "
            "(delivered with it, or earlier), so leadflow can tell who it is",
        )
    values: dict[str, object] = {}
    custom: dict[str, JsonScalar] = {}
    name, value = event.text("propertyName"), event.get("propertyValue")
    if kind == "contact.propertyChange" and name and name != "email":
        if name in _TRAITS:
            values[_TRAITS[name]] = value
        elif value is None or isinstance(value, str | int | float | bool):
            custom[name] = value
    ids = ExternalIds(hubspot_contact_id=contact_id)
    message_id = f"{event.text('portalId') or '-'}:{event.need_text('eventId')}"
    identified = build(
        ContactIdentified,
        join(path, "data"),
        {
            "email": email,
            "external_ids": ids,
            "traits": contact_traits(values, custom, join(path, "data.traits")),
            "account": AccountHint(company_name=value if name == "company" and isinstance(value, str) else None),
            "source_system": HUBSPOT,
        },
    )
    key = identity_key(email, ids, path)
    return [make_event(identified, key=key, time=time, event_id=ingest_event_id(HUBSPOT, message_id, "id"))]


def hubspot_form_items(body: dict[str, Any], received_at: datetime) -> list[Item]:
    """A form submission is one item: a touch, and an identify when it names an email."""
    return [Item("", None, partial(_form, body, received_at))]


def _form(body: dict[str, Any], received_at: datetime) -> list[Event[Any]]:
    doc = Doc.of(body, "")
    context = doc.obj_or_empty("context")
    values: dict[str, object] = {}
    fields_path = doc.at("fields")
    for index, entry in enumerate(doc.get("fields")):
        field = Doc.of(entry, join(fields_path, index))
        values.setdefault(field.need_text("name"), field.get("value"))
    email_at = join(fields_path, next((i for i, f in enumerate(doc.get("fields")) if f.get("name") == "email"), 0))
    email = checked_email(values.get("email"), join(email_at, "value"))
    hutk = context.text("hutk")
    ids = ExternalIds(other={"hubspot_utk": hutk} if hutk else {})
    key = identity_key(email, ids, "fields")  # rejected, naming the fields, with neither an email nor a hutk
    time = _millis(doc, "submittedAt") if doc.get("submittedAt") else received_at
    page, page_name = context.text("pageUri"), context.text("pageName")
    message_id = f"form:{time.isoformat()}:{email or hutk}:{page or ''}"
    touch_id = ingest_event_id(HUBSPOT, message_id, "touch")
    scalars = {name: value for name, value in values.items() if value is None or isinstance(value, str | int | float)}
    touch = build(
        TouchRecorded,
        "data",
        {
            "touch_id": touch_id,
            "contact": {"email": email, "external_ids": ids},
            "touch_type": form_touch_type(page_name, page),
            "channel": "web",
            "url": page if page and "://" in page else (f"https://{page}" if page else None),
            "source_system": HUBSPOT,
            "source_touch_id": message_id,
            "properties": {**{k: v for k, v in scalars.items() if k != "email"}, "page_name": page_name},
        },
    )
    events = [make_event(touch, key=key, time=time, event_id=touch_id)]
    if email:
        traits = {trait: values[name] for name, trait in _TRAITS.items() if name in values}
        custom = {k: v for k, v in scalars.items() if k not in _TRAITS and k != "email"}
        identified = build(
            ContactIdentified,
            "data",
            {
                "email": email,
                "external_ids": ids,
                "traits": contact_traits(traits, custom, "data.traits"),
                "account": AccountHint(
                    company_name=company if isinstance(company := values.get("company"), str) else None
                ),
                "source_system": HUBSPOT,
            },
        )
        events.append(make_event(identified, key=key, time=time, event_id=ingest_event_id(HUBSPOT, message_id, "id")))
    return events


def form_touch_type(*names: str | None) -> str:
    """Hand-raiser forms by their page: "Request a demo", /contact-sales; any other form is form_submit."""
    text = "".join(ch for ch in " ".join(name for name in names if name).casefold() if ch.isalnum())
    if "demo" in text and "demograph" not in text:
        return "demo_request"
    if "contactsales" in text or "talktosales" in text:
        return "contact_sales"
    return "form_submit"
