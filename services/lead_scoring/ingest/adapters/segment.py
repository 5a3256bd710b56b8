"""Segment calls (track, identify, page, shaped as Segment's Spec documents them) as leadflow events."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import partial
from typing import Any

from events.catalog.common import AccountHint, ContactTraits, ExternalIds
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
    first_time,
    identity_key,
    ingest_event_id,
    is_pricing_page,
    join,
    looks_like_email,
    make_event,
)
from services.lead_scoring.matching.domain import normalise_domain

SEGMENT = "segment"
SEGMENT_CALLS = frozenset({"track", "identify", "page"})
_TIME_FIELDS = ("timestamp", "originalTimestamp", "receivedAt", "sentAt")

TRACK_TOUCH_TYPES = {
    "demo requested": "demo_request",
    "sales contacted": "contact_sales",
    "contact sales requested": "contact_sales",
    "whitepaper downloaded": "content_download",
    "content downloaded": "content_download",
    "ebook downloaded": "content_download",
    "case study downloaded": "content_download",
    "webinar registered": "webinar_registered",
    "webinar attended": "webinar_attended",
    "email opened": "email_open",
    "email link clicked": "email_click",
    "email bounced": "email_bounce",
    "unsubscribed": "unsubscribe",
    "form submitted": "form_submit",
    "badge scanned": "event_badge_scan",
    "pricing page viewed": "pricing_page_view",
}
"""Segment event names (Spec and common B2B names, compared case-insensitively) -> leadflow touch types."""

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CHANNELS = (("email_", "email"), ("unsubscribe", "email"), ("webinar_", "webinar"), ("event_", "event"))
_UTM = (("source", "utm_source"), ("medium", "utm_medium"), ("name", "utm_campaign"), ("term", "utm_term"))


def snake_case(name: str) -> str:
    """ "Trial Started" / "trialStarted" -> "trial_started"."""
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def touch_type_of(event_name: str) -> str | None:
    """The touch type of a Segment track event name, None if the name cannot become one."""
    known = TRACK_TOUCH_TYPES.get(" ".join(event_name.casefold().split()))
    code = known or snake_case(event_name)
    return code if _CODE.match(code) else None


def segment_items(body: dict[str, Any], received_at: datetime) -> list[Item]:
    """The calls of a Segment request: one call, or the `batch` array of Segment's batch endpoint."""
    batch = body.get("batch")
    if isinstance(batch, list) and "type" not in body:
        return [
            Item(join("batch", i), i, partial(_call, call, join("batch", i), received_at))
            for i, call in enumerate(batch)
        ]
    return [Item("", None, partial(_call, body, "", received_at))]


def _call(raw: object, path: str, received_at: datetime) -> list[Event[Any]]:
    call = Doc.of(raw, path)
    kind = call.need_text("type")
    if kind not in SEGMENT_CALLS:
        raise ItemRejected(call.at("type"), f"Segment {kind} calls are not ingested (send track, identify or page)")
    message_id = call.need_text("messageId")
    user_id, anonymous_id = call.text("userId"), call.text("anonymousId")
    if not (user_id or anonymous_id):
        raise ItemRejected(call.at("userId"), "a Segment call needs a userId or an anonymousId")
    time = first_time(call, _TIME_FIELDS, received_at)
    ids = ExternalIds(segment_user_id=user_id, segment_anonymous_id=anonymous_id)
    context = call.obj_or_empty("context")
    if kind == "identify":
        return [_identify(call, context, ids, message_id, time)]
    return [_touch(kind, call, context, ids, message_id, time)]


def _email(docs: tuple[Doc | None, ...], user_id: str | None) -> str | None:
    """The first email among the `email` keys of `docs`, else the userId when it is an email."""
    for doc in docs:
        if doc is not None and (email := checked_email(doc.get("email"), doc.at("email"))):
            return email
    return user_id if looks_like_email(user_id) else None


def _touch(kind: str, call: Doc, context: Doc, ids: ExternalIds, message_id: str, time: datetime) -> Event[Any]:
    properties = call.obj_or_empty("properties")
    page = context.obj_or_empty("page")
    email = _email((context.obj("traits"), properties), ids.segment_user_id)
    tags = properties.get("content_tags")
    tags = [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []
    extra: dict[str, JsonScalar] = {}
    if kind == "track":
        event_name = call.need_text("event")
        touch_type = touch_type_of(event_name)
        if touch_type is None:
            raise ItemRejected(call.at("event"), f"{event_name!r} cannot become a touch type (needs a letter first)")
        url, referrer = page.text("url"), page.text("referrer")
    else:
        url = properties.text("url") or page.text("url")
        referrer = properties.text("referrer") or page.text("referrer")
        touch_type = "pricing_page_view" if is_pricing_page(url or properties.text("path")) else "page_view"
        if category := call.text("category"):
            tags.append(category)
        if page_name := call.text("name"):
            extra["page_name"] = page_name
    campaign = context.obj_or_empty("campaign")
    utm = {target: campaign.text(key) for key, target in _UTM if campaign.text(key)}
    channel = properties.text("channel") or next((c for prefix, c in _CHANNELS if touch_type.startswith(prefix)), None)
    touch_id = ingest_event_id(SEGMENT, message_id, "touch")
    data = build(
        TouchRecorded,
        join(call.path, "data"),
        {
            "touch_id": touch_id,
            "contact": {"email": email, "external_ids": ids},
            "touch_type": touch_type,
            "channel": channel or ("web" if url else None),
            "campaign": campaign.text("name") or properties.text("campaign"),
            "content_id": properties.text("content_id"),
            "content_tags": tags,
            "url": url,
            "referrer_url": referrer,
            "source_system": SEGMENT,
            "source_touch_id": message_id,
            "properties": {**utm, **extra, **properties.scalars(skip=frozenset({"email"}))},
        },
    )
    return make_event(data, key=identity_key(email, ids, call.at("userId")), time=time, event_id=touch_id)


def _identify(call: Doc, context: Doc, ids: ExternalIds, message_id: str, time: datetime) -> Event[Any]:
    traits = call.obj_or_empty("traits")
    email = _email((traits, context.obj("traits")), ids.segment_user_id)
    if not email:
        raise ItemRejected(traits.at("email"), "an identify call needs an email (traits.email or an email as userId)")
    prefix = join(call.path, "data")
    contact, account = _traits(traits, join(prefix, "traits"))
    data = build(
        ContactIdentified,
        prefix,
        {"email": email, "external_ids": ids, "traits": contact, "account": account, "source_system": SEGMENT},
    )
    event_id = ingest_event_id(SEGMENT, message_id, "identify")
    return make_event(data, key=identity_key(email, ids, call.at("userId")), time=time, event_id=event_id)


_CONSUMED = frozenset(
    {
        "email", "firstName", "first_name", "lastName", "last_name", "name", "title", "jobFunction", "job_function",
        "seniority", "phone", "company", "industry", "employees", "employee_count", "country", "city", "address",
        "linkedin", "linkedinUrl", "linkedin_url", "marketing_consent", "marketingConsent", "website",
    }
)  # fmt: skip


def _pick(doc: Doc | None, *keys: str) -> str | None:
    for key in keys:
        if doc is not None and (value := doc.text(key)):
            return value
    return None


def _first_set(*values: object) -> object:
    return next((value for value in values if value is not None), None)


def _traits(traits: Doc, prefix: str) -> tuple[ContactTraits, AccountHint]:
    """Segment's reserved traits (and common B2B ones) as ContactTraits and an AccountHint; the rest is custom."""
    raw_company = traits.get("company")
    company = Doc.of(raw_company, traits.at("company")) if isinstance(raw_company, dict) else None
    company_name = traits.text("company") if company is None else company.text("name")
    address = traits.obj("address")
    first, last = _pick(traits, "firstName", "first_name"), _pick(traits, "lastName", "last_name")
    if not (first or last) and (full_name := traits.text("name")):
        first, _, last = full_name.partition(" ")
    custom = traits.scalars(skip=_CONSUMED)
    if company is not None:
        skip = frozenset({"name", "industry", "employee_count", "website"})
        custom.update({f"company_{key}": value for key, value in company.scalars(skip=skip).items()})
    values = {
        "first_name": first,
        "last_name": last,
        "title": _pick(traits, "title"),
        "job_function": _pick(traits, "jobFunction", "job_function"),
        "seniority": _pick(traits, "seniority"),
        "phone": _pick(traits, "phone"),
        "company": company_name,
        "industry": _pick(traits, "industry") or _pick(company, "industry"),
        "employees": _first_set(
            traits.get("employees"), traits.get("employee_count"), company and company.get("employee_count")
        ),
        "country": traits.get("country") or (address and address.get("country")),
        "city": _pick(traits, "city") or _pick(address, "city"),
        "linkedin_url": _pick(traits, "linkedin", "linkedinUrl", "linkedin_url"),
        "marketing_consent": _first_set(traits.get("marketing_consent"), traits.get("marketingConsent")),
    }
    domain = None
    if website := _pick(traits, "website") or _pick(company, "website"):
        try:
            domain = normalise_domain(website)
        except ValueError:
            custom["website"] = website
    return contact_traits(values, custom, prefix), AccountHint(company_name=company_name, domain=domain)
