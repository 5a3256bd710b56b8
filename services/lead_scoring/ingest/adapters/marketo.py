"""Marketo's lead activities, in the shape its REST API answers (GET /rest/v1/activities.json), as touches.

Activities name the lead by its Marketo id (`leadId`); the default activity types a prospect performs become
touches, by their standard ids. Other types (a send, a data change) are not a prospect's action and are
refused per item, naming the id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from events.catalog.common import ExternalIds
from events.catalog.touches import TouchRecorded
from events.registry import Event
from services.lead_scoring.ingest.adapters.hubspot import form_touch_type
from services.lead_scoring.ingest.adapters.support import (
    Doc,
    Item,
    ItemRejected,
    build,
    identity_key,
    ingest_event_id,
    is_pricing_page,
    join,
    make_event,
    parse_time,
)

MARKETO = "marketo"
# Marketo's standard activity type ids (GET /rest/v1/activities/types.json): (name, touch type, channel).
ACTIVITY_TYPES: dict[int, tuple[str, str, str]] = {
    1: ("Visit Webpage", "page_view", "web"),
    2: ("Fill Out Form", "form_submit", "web"),
    3: ("Click Link", "page_view", "web"),
    8: ("Email Bounced", "email_bounce", "email"),
    9: ("Unsubscribe Email", "unsubscribe", "email"),
    10: ("Open Email", "email_open", "email"),
    11: ("Click Email", "email_click", "email"),
}


def is_marketo_activities(body: Mapping[str, Any]) -> bool:
    """Whether a body is a Marketo REST answer of activities: `result` with `requestId` or `success`."""
    return isinstance(body.get("result"), list) and ("requestId" in body or "success" in body)


def marketo_items(body: dict[str, Any], received_at: datetime) -> list[Item]:
    """One item per activity of `result`; an answer that says it failed is refused whole."""
    if body.get("success") is False:
        errors = body.get("errors")
        listed = errors if isinstance(errors, list) else []
        said = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in listed if isinstance(e, dict))
        raise ItemRejected("success", f"Marketo answered with an error ({said or 'no detail'}): nothing to ingest")
    return [
        Item(join("result", index), index, partial(_activity, activity, join("result", index)))
        for index, activity in enumerate(body["result"])
    ]


def _activity(raw: object, path: str) -> list[Event[Any]]:
    activity = Doc.of(raw, path)
    type_id = activity.get("activityTypeId")
    known = ACTIVITY_TYPES.get(type_id) if isinstance(type_id, int) and not isinstance(type_id, bool) else None
    if known is None:
        wanted = ", ".join(f"{number} ({name})" for number, (name, _, _) in ACTIVITY_TYPES.items())
        raise ItemRejected(activity.at("activityTypeId"), f"{type_id!r} is not a touch leadflow scores (send {wanted})")
    name, touch_type, channel = known
    lead_id = activity.need_text("leadId")
    activity_id = activity.text("marketoGUID") or activity.need_text("id")
    time = parse_time(activity.get("activityDate"), activity.at("activityDate"))
    attributes = _attributes(activity)
    primary = activity.text("primaryAttributeValue")
    url = attributes.get("Webpage URL") or attributes.get("Link") or (primary if type_id in (1, 3) else None)
    if type_id == 1 and is_pricing_page(url):
        touch_type = "pricing_page_view"
    elif type_id == 2:
        touch_type = form_touch_type(primary)
    ids = ExternalIds(marketo_lead_id=lead_id)
    touch_id = ingest_event_id(MARKETO, f"activity:{activity_id}", "touch")
    content = activity.text("primaryAttributeValueId")
    kind = "email" if channel == "email" else ("form" if type_id == 2 else "page")
    touch = build(
        TouchRecorded,
        join(path, "data"),
        {
            "touch_id": touch_id,
            "contact": {"external_ids": ids},
            "touch_type": touch_type,
            "channel": channel,
            "content_id": f"{kind}:{content}" if content else None,
            "url": url if url and "://" in url else (f"https://{url}" if url and "." in url.split("/")[0] else None),
            "referrer_url": attributes.get("Referrer URL") or None,
            "source_system": MARKETO,
            "source_touch_id": activity_id,
            "properties": {
                "activity_type": name,
                **({"asset": primary} if primary else {}),
                **({"campaign_id": str(activity.get("campaignId"))} if activity.get("campaignId") else {}),
            },
        },
    )
    key = identity_key(None, ids, activity.at("leadId"))
    return [make_event(touch, key=key, time=time, event_id=touch_id)]


def _attributes(activity: Doc) -> dict[str, str]:
    """The activity's `attributes` (name/value pairs) with text values."""
    found: dict[str, str] = {}
    for index, entry in enumerate(activity.get("attributes") or []):
        pair = Doc.of(entry, join(activity.at("attributes"), index))
        name, value = pair.text("name"), pair.get("value")
        if name and isinstance(value, str | int | float) and not isinstance(value, bool):
            found.setdefault(name, str(value))
    return found
