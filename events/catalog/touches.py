"""Events marketing automation sends in on `leadflow.touches`: what prospects did and who they are."""

from __future__ import annotations

import uuid

from pydantic import Field

from events.catalog.common import AccountHint, Code, ContactIdentity, ContactTraits, Email, ExternalIds
from events.envelope import EventData
from events.limits import EventTime, Name50, Properties, Tags, Text64, Text200, Text300, Url

TOUCH_TYPES = (
    "page_view",
    "form_submit",
    "email_open",
    "email_click",
    "webinar_registered",
    "webinar_attended",
    "event_badge_scan",
    "content_download",
    "demo_request",
    "contact_sales",
    "pricing_page_view",
    "unsubscribe",
    "email_bounce",
)


class TouchRecorded(EventData):
    """A prospect did something marketing can see: a visit, a download, a webinar, a form, a badge scan."""

    touch_id: uuid.UUID = Field(description="Unique per touch; a re-sent touch keeps its id.")
    occurred_at: EventTime | None = Field(
        default=None,
        description="When the prospect acted, if it differs from the event `time` (e.g. a batch import).",
    )
    contact: ContactIdentity = Field(description="Who acted: email and/or external ids.")
    touch_type: Code = Field(
        description="What they did. An open list of snake_case codes: new types are additive.",
        examples=list(TOUCH_TYPES),
    )
    channel: Text64 | None = Field(
        default=None,
        description="How the touch came in, e.g. web, email, webinar, event, paid_social, organic_search.",
    )
    campaign: Text200 | None = Field(default=None, description="The campaign's id or code in marketing automation.")
    content_id: Text200 | None = Field(default=None, description="The piece of content involved, if any.")
    content_tags: Tags = Field(
        default_factory=list, description="Tags of the content, e.g. topic or funnel stage (tofu, mofu, bofu)."
    )
    url: Url | None = Field(default=None, description="The page's URL, for web touches.")
    referrer_url: Url | None = Field(default=None, description="The referring URL, for web touches.")
    source_system: Name50 = Field(description="The sending system, e.g. mautic, hubspot, segment, form_backend.")
    source_touch_id: Text300 | None = Field(default=None, description="The touch's id in the sending system.")
    properties: Properties = Field(
        default_factory=dict, description="Form fields, UTM parameters and other properties of the touch."
    )


class ContactIdentified(EventData):
    """Marketing automation learned who a person is (a form fill, an import, a CRM sync)."""

    email: Email = Field(description="The contact's email address.")
    external_ids: ExternalIds = Field(
        default_factory=ExternalIds,
        description="The contact's ids; an anonymous id here links earlier anonymous touches to the contact.",
    )
    traits: ContactTraits = Field(default_factory=ContactTraits, description="What is known about the person.")
    account: AccountHint = Field(default_factory=AccountHint, description="What is known about their company.")
    source_system: Name50 = Field(description="The sending system, e.g. mautic, hubspot, crm.")


class ContactErased(EventData):
    """A person asked to be forgotten: every service deletes or anonymises what it holds about them."""

    contact_id: uuid.UUID | None = Field(default=None, description="The contact in leadflow, if known.")
    email: Email | None = Field(default=None, description="The contact's email address, if known.")
    external_ids: ExternalIds = Field(
        default_factory=ExternalIds, description="The contact's ids in other systems, if known."
    )
    requested_at: EventTime = Field(description="When the person made the request.")
    request_reference: Text300 | None = Field(
        default=None, description="The privacy request's reference, for the audit trail."
    )
    source_system: Name50 = Field(description="The system that received the request.")
