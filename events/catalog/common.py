"""Value types and submodels shared by several event types."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, WithJsonSchema

from events.envelope import EventData

Stage = Literal["raw", "engaged", "mql", "disqualified"]
"""The lifecycle stage of a lead, decided by lead_scoring."""

FitGrade = Literal["A", "B", "C", "D"]
"""The fit score mapped to a grade by the lead definition; A fits best."""

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""A snake_case code from an open list (touch types, reason codes, buying roles): new codes are additive."""

AccountKey = Annotated[str, Field(min_length=1, max_length=320)]

JsonScalar = str | int | float | bool | None

Amount = Annotated[
    Decimal,
    Field(ge=0, decimal_places=2),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$"}),
]


class Money(EventData):
    """An amount of money: a decimal string and an ISO 4217 currency."""

    amount: Amount = Field(description='A decimal string with at most 2 decimals, e.g. "48000.00".')
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code, e.g. EUR.")


class ExternalIds(EventData):
    """The ids a contact has in the systems around leadflow; any may be missing."""

    segment_anonymous_id: str | None = Field(default=None, description="Segment (or CDP) anonymous visitor id.")
    segment_user_id: str | None = Field(default=None, description="Segment (or CDP) known user id.")
    mautic_contact_id: str | None = Field(default=None, description="Mautic contact id.")
    hubspot_contact_id: str | None = Field(default=None, description="HubSpot contact id.")
    marketo_lead_id: str | None = Field(default=None, description="Marketo lead id.")
    crm_contact_id: str | None = Field(default=None, description="CRM contact or lead id, e.g. Salesforce.")
    other: dict[str, str] = Field(
        default_factory=dict, description="Ids in other systems: system name -> id, e.g. {'pardot': '123'}."
    )


class ContactIdentity(EventData):
    """Who acted, as far as the sender knows: an email and/or external ids (at least one of them)."""

    email: Email | None = Field(default=None, description="Work or personal email address, if known.")
    external_ids: ExternalIds = Field(
        default_factory=ExternalIds, description="The contact's ids in the sending and other systems."
    )


class ContactTraits(EventData):
    """What is known about a person: the input of the fit rules about the contact."""

    first_name: str | None = Field(default=None, description="Given name.")
    last_name: str | None = Field(default=None, description="Family name.")
    title: str | None = Field(default=None, description="Job title as entered, e.g. 'VP Operations'.")
    job_function: str | None = Field(default=None, description="Normalised function, e.g. operations, it.")
    seniority: str | None = Field(default=None, description="Normalised seniority, e.g. c_level, vp, manager.")
    phone: str | None = Field(default=None, description="Phone number, E.164 where possible.")
    company: str | None = Field(default=None, description="Company name as entered by the contact.")
    industry: str | None = Field(default=None, description="Industry, e.g. manufacturing, logistics.")
    employees: int | None = Field(default=None, ge=0, description="Company headcount, if known.")
    country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country of the contact."
    )
    city: str | None = Field(default=None, description="City.")
    linkedin_url: str | None = Field(default=None, description="LinkedIn profile URL.")
    marketing_consent: bool | None = Field(
        default=None, description="Whether the contact consented to marketing; null if unknown."
    )
    custom: dict[str, JsonScalar] = Field(
        default_factory=dict, description="Other fields of the sending system, by field name."
    )


class AccountHint(EventData):
    """What the sender knows about the contact's company, to help lead-to-account matching."""

    crm_account_id: str | None = Field(default=None, description="The account's id in the CRM, if known.")
    company_name: str | None = Field(default=None, description="Company name, e.g. 'Acme Robotics GmbH'.")
    domain: str | None = Field(default=None, description="The company's web domain, e.g. acme-robotics.com.")


class LeadRef(EventData):
    """The lead an event is about: the contact, its account and the account key."""

    lead_id: uuid.UUID = Field(description="The lead; equal to the contact id (one lead per contact).")
    contact_id: uuid.UUID = Field(description="The contact in lead_scoring.")
    account_id: uuid.UUID | None = Field(
        default=None, description="The matched account; null while unmatched (e.g. free-mail contacts)."
    )
    account_key: AccountKey = Field(description="The account key, as used for the Kafka message key.")


class HandoffRef(EventData):
    """The handoff an event is about, with the lead, contact and account it carries."""

    handoff_id: uuid.UUID = Field(description="The handoff.")
    lead_id: uuid.UUID = Field(description="The lead handed off (equal to the contact id).")
    contact_id: uuid.UUID = Field(description="The contact.")
    account_id: uuid.UUID | None = Field(default=None, description="The account, if matched.")


class Recycle(EventData):
    """What happens to a lead sales sent back: nurture it, wait, or disqualify it."""

    action: Literal["nurture", "wait", "disqualify", "close"] = Field(
        description=(
            "nurture: enroll in `track_id`; wait: no marketing for `wait_days`; disqualify: stop; "
            "close: end this qualification cycle and leave the lead where it is."
        )
    )
    track_id: str | None = Field(default=None, description="The nurture track, for action nurture.")
    wait_days: int | None = Field(
        default=None, ge=0, description="Days before the lead may qualify again (nurture or wait)."
    )


class TouchSummary(EventData):
    """One touch as shown in a handoff dossier's timeline."""

    touch_id: uuid.UUID = Field(description="The touch.")
    occurred_at: AwareDatetime = Field(description="When the prospect acted.")
    touch_type: Code = Field(description="What they did, e.g. content_download (see touch.recorded).")
    channel: str | None = Field(default=None, description="The channel, e.g. web, email, webinar, event.")
    campaign: str | None = Field(default=None, description="The campaign, if any.")
    content_id: str | None = Field(default=None, description="The piece of content, if any.")
    url: str | None = Field(default=None, description="The page, if any.")
    points: float = Field(description="Engagement points this touch contributes now (after decay and caps).")
