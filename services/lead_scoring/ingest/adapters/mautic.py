"""Mautic webhooks (form submit, page hit, email open, as Mautic's developer documentation shows them) as events."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
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
    first_time,
    identity_key,
    ingest_event_id,
    is_pricing_page,
    join,
    make_event,
)
from services.lead_scoring.matching.domain import normalise_domain

MAUTIC = "mautic"


@dataclass(frozen=True)
class MauticContact:
    """A Mautic contact object: its id, its fields by alias (groups flattened) and where each field was."""

    mautic_id: str | None = None
    fields: dict[str, object] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    do_not_email: bool = False


def mautic_contact(doc: Doc | None) -> MauticContact:
    """Read a Mautic contact (`lead` / `contact`): fields are grouped as core, social, personal, professional."""
    if doc is None:
        return MauticContact()
    values: dict[str, object] = {}
    paths: dict[str, str] = {}
    groups = doc.obj_or_empty("fields")
    for group in groups.value:
        members = groups.obj_or_empty(group)
        for alias, member in members.value.items():
            # Each field is an object with `value`; a flat "all" group holds bare values.
            value, path = (
                (member.get("value"), join(members.at(alias), "value"))
                if isinstance(member, dict)
                else (
                    member,
                    members.at(alias),
                )
            )
            if value not in (None, "") and alias not in values:
                values[alias], paths[alias] = value, path
    unsubscribed = doc.get("doNotContact")
    do_not_email = isinstance(unsubscribed, list) and any(
        isinstance(entry, dict) and entry.get("channel") == "email" for entry in unsubscribed
    )
    return MauticContact(doc.text("id"), values, paths, do_not_email)


def mautic_items(body: dict[str, Any], received_at: datetime) -> list[Item]:
    """One item per webhook entry; Mautic's queued delivery groups several event types in one body."""
    items: list[Item] = []
    for event_type, entries in body.items():
        adapter = _ADAPTERS.get(event_type)
        if adapter is None:
            message = f"is not ingested (send {', '.join(sorted(_ADAPTERS))})"
            items.append(Item(event_type, None, partial(_reject, event_type, message)))
        elif not isinstance(entries, list):
            items.append(Item(event_type, None, partial(_reject, event_type, "must be an array of events")))
        else:
            for index, entry in enumerate(entries):
                location = join(event_type, index)
                items.append(Item(location, index, partial(adapter, entry, location, received_at)))
    return items


def _reject(field_path: str, message: str) -> list[Event[Any]]:
    raise ItemRejected(field_path, message)


def _when(doc: Doc, key: str, entry: Doc, received_at: datetime) -> datetime:
    """The time of the fact (`key` of `doc`), else the webhook's `timestamp`; Mautic stores and sends UTC."""
    fallback = first_time(entry, ("timestamp",), received_at, naive_is_utc=True)
    return first_time(doc, (key,), fallback, naive_is_utc=True)


def _contact_email(contact: MauticContact, fallback: Doc) -> str | None:
    return checked_email(contact.fields.get("email"), contact.paths.get("email", fallback.at("email")))


def _form_touch_type(*names: str | None) -> str:
    """Hand-raiser forms by their name or alias: "Request a demo", "contact-sales"; any other form is form_submit."""
    text = re.sub(r"[^a-z0-9]", "", " ".join(name for name in names if name).casefold())
    if re.search(r"demo(?!graph)", text):
        return "demo_request"
    if "contactsales" in text or "talktosales" in text:
        return "contact_sales"
    return "form_submit"


def _category(doc: Doc | None) -> list[str]:
    category = doc.obj("category") if doc else None
    alias = category.text("alias") if category else None
    return [alias] if alias else []


def _present(values: dict[str, JsonScalar | None]) -> dict[str, JsonScalar]:
    return {key: value for key, value in values.items() if value is not None and value != ""}


def _form_submit(raw: object, path: str, received_at: datetime) -> list[Event[Any]]:
    entry = Doc.of(raw, path)
    submission = entry.need("submission")
    submission_id = submission.need_text("id")
    form = submission.obj_or_empty("form")
    results = submission.obj_or_empty("results")
    contact = mautic_contact(submission.obj("lead"))
    email = checked_email(results.get("email"), results.at("email")) or _contact_email(contact, submission)
    ids = ExternalIds(mautic_contact_id=contact.mautic_id)
    key = identity_key(email, ids, submission.at("lead"))
    time = _when(submission, "dateSubmitted", entry, received_at)
    message_id = f"form_on_submit:{submission_id}"
    touch_id = ingest_event_id(MAUTIC, message_id, "touch")
    form_fields = results.scalars(skip=frozenset({"email"}))
    touch = build(
        TouchRecorded,
        join(path, "data"),
        {
            "touch_id": touch_id,
            "contact": {"email": email, "external_ids": ids},
            "touch_type": _form_touch_type(form.text("name"), form.text("alias")),
            "channel": "web",
            "content_id": f"form:{form.text('alias') or form.text('id')}",
            "content_tags": _category(form),
            "url": submission.text("referer"),
            "source_system": MAUTIC,
            "source_touch_id": message_id,
            "properties": {**form_fields, **_present({"form_id": form.text("id"), "form_name": form.text("name")})},
        },
    )
    events = [make_event(touch, key=key, time=time, event_id=touch_id)]
    if email:
        # The contact's saved fields win; form answers not mapped to a contact field fill the gaps.
        values = {**_present(dict(form_fields)), **contact.fields}
        identified = _identified(email, ids, values, contact.do_not_email, join(path, "data"))
        events.append(make_event(identified, key=key, time=time, event_id=ingest_event_id(MAUTIC, message_id, "id")))
    return events


_TRAIT_FIELDS = {
    "first_name": ("firstname",),
    "last_name": ("lastname",),
    "title": ("position", "jobtitle", "job_title"),
    "job_function": ("job_function", "jobfunction"),
    "seniority": ("seniority",),
    "phone": ("phone", "mobile"),
    "company": ("company",),
    "industry": ("industry", "companyindustry"),
    "employees": ("employees", "number_of_employees", "companynumber_of_employees"),
    "country": ("country",),
    "city": ("city",),
    "linkedin_url": ("linkedin",),
}
_NOT_CUSTOM = frozenset({"email", "website", *(alias for aliases in _TRAIT_FIELDS.values() for alias in aliases)})


def _identified(
    email: str, ids: ExternalIds, values: dict[str, object], do_not_email: bool, prefix: str
) -> ContactIdentified:
    traits = {name: next((values[a] for a in aliases if a in values), None) for name, aliases in _TRAIT_FIELDS.items()}
    if not str(traits["linkedin_url"] or "").startswith("http"):
        traits["linkedin_url"] = None  # Mautic's linkedin field often holds a handle, not a URL
    if do_not_email:
        traits["marketing_consent"] = False
    custom: dict[str, JsonScalar] = {
        key: value
        for key, value in values.items()
        if key not in _NOT_CUSTOM and (value is None or isinstance(value, str | int | float | bool))
    }
    domain = None
    if isinstance(website := values.get("website"), str):
        try:
            domain = normalise_domain(website)
        except ValueError:
            custom["website"] = website
    company = traits["company"] if isinstance(traits["company"], str) else None
    return build(
        ContactIdentified,
        prefix,
        {
            "email": email,
            "external_ids": ids,
            "traits": contact_traits(traits, custom, join(prefix, "traits")),
            "account": AccountHint(company_name=company, domain=domain),
            "source_system": MAUTIC,
        },
    )


def _page_hit(raw: object, path: str, received_at: datetime) -> list[Event[Any]]:
    entry = Doc.of(raw, path)
    hit = entry.need("hit")
    hit_id = hit.need_text("id")
    contact = mautic_contact(hit.obj("lead"))
    email = _contact_email(contact, hit)
    ids = ExternalIds(mautic_contact_id=contact.mautic_id)
    key = identity_key(email, ids, hit.at("lead"))
    time = _when(hit, "dateHit", entry, received_at)
    page = hit.obj("page")
    query = hit.obj_or_empty("query")
    url = hit.text("url")
    message_id = f"page_on_hit:{hit_id}"
    touch_id = ingest_event_id(MAUTIC, message_id, "touch")
    details = {"page_title": hit.text("urlTitle"), "source": hit.text("source"), "source_id": hit.text("sourceId")}
    touch = build(
        TouchRecorded,
        join(path, "data"),
        {
            "touch_id": touch_id,
            "contact": {"email": email, "external_ids": ids},
            "touch_type": "pricing_page_view" if is_pricing_page(url) else "page_view",
            # A click in a Mautic email lands as a page hit whose source is the email.
            "channel": "email" if hit.text("source") == "email" else "web",
            "campaign": query.text("utm_campaign"),
            "content_id": f"page:{alias}" if page and (alias := page.text("alias")) else None,
            "content_tags": _category(page),
            "url": url,
            "referrer_url": hit.text("referer"),
            "source_system": MAUTIC,
            "source_touch_id": message_id,
            "properties": {**query.scalars(), **_present(dict(details))},
        },
    )
    return [make_event(touch, key=key, time=time, event_id=touch_id)]


def _email_open(raw: object, path: str, received_at: datetime) -> list[Event[Any]]:
    entry = Doc.of(raw, path)
    # The documentation shows the email-send shape; some Mautic versions wrap the same facts in `stat`.
    source = entry.obj("stat") or entry
    email_doc = source.need("email")
    email_id = email_doc.need_text("id")
    send_id = source.text("idHash") or source.text("trackingHash")
    if not send_id:
        raise ItemRejected(source.at("idHash"), "is required: it identifies the email sent to the contact")
    contact = mautic_contact(source.obj("contact") or source.obj("lead"))
    email = _contact_email(contact, source) or checked_email(source.get("emailAddress"), source.at("emailAddress"))
    ids = ExternalIds(mautic_contact_id=contact.mautic_id)
    key = identity_key(email, ids, source.at("contact"))
    time = _when(source, "dateRead", entry, received_at)
    # Every open is a touch; a retried delivery repeats the timestamp and so the id.
    message_id = f"email_on_open:{send_id}:{entry.text('timestamp') or source.text('dateRead') or ''}"
    touch_id = ingest_event_id(MAUTIC, message_id, "touch")
    utm = email_doc.obj_or_empty("utmTags")
    details = {"email_name": email_doc.text("name"), "subject": source.text("subject") or email_doc.text("subject")}
    touch = build(
        TouchRecorded,
        join(path, "data"),
        {
            "touch_id": touch_id,
            "contact": {"email": email, "external_ids": ids},
            "touch_type": "email_open",
            "channel": "email",
            "campaign": utm.text("utmCampaign"),
            "content_id": f"email:{email_id}",
            "content_tags": _category(email_doc),
            "source_system": MAUTIC,
            "source_touch_id": message_id,
            "properties": _present(
                {**details, "utm_source": utm.text("utmSource"), "utm_medium": utm.text("utmMedium")}
            ),
        },
    )
    return [make_event(touch, key=key, time=time, event_id=touch_id)]


_ADAPTERS: dict[str, Callable[[object, str, datetime], list[Event[Any]]]] = {
    "mautic.form_on_submit": _form_submit,
    "mautic.page_on_hit": _page_hit,
    "mautic.email_on_open": _email_open,
}
