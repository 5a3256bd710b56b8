"""Value types and submodels shared by several event types."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema, model_validator

from events.emails import EMAIL_RULES, valid_email
from events.envelope import EventData
from events.limits import (
    ATTRIBUTE,
    NO_NUL,
    CustomFields,
    EventTime,
    FiniteFloat,
    SystemIds,
    Text64,
    Text200,
    Text300,
    Text320,
    Text1000,
    Url,
)

ACCOUNT_KEY = (
    "the account key (the account id, else the corporate email domain, else the email for free-mail addresses)"
)
"""What the Kafka key of most events is."""

Stage = Literal["raw", "engaged", "mql", "disqualified"]
"""The lifecycle stage of a lead, decided by lead_scoring."""

FitGrade = Literal["A", "B", "C", "D"]
"""The fit score mapped to a grade by the lead definition; A fits best."""


def _says_what_else_is_checked(schema: dict[str, Any]) -> None:
    schema["description"] = f"{schema.get('description', '')} {EMAIL_RULES}".strip()


Email = Annotated[
    str,
    # The pattern is a first filter a JSON Schema validator can apply; valid_email decides (see EMAIL_RULES).
    Field(
        pattern=r"^[^@\s\u0000]+@[^@\s\u0000]+\.[^@\s\u0000]+$",
        max_length=320,
        json_schema_extra=_says_what_else_is_checked,
    ),
    AfterValidator(valid_email),
]
"""An email address as sent, one leadflow can use (events.emails): no space and no NUL character."""

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""A snake_case code from an open list (touch types, reason codes, buying roles): new codes are additive."""

AccountKey = Annotated[Text320, Field(min_length=1)]

_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def _not_just_www(value: str) -> str:
    if value.lower().startswith("www.") and value.count(".") < 2:
        raise ValueError(f"{value!r} is www. and one label: not a company's domain")
    return value


Domain = Annotated[
    str,
    Field(max_length=253, pattern=rf"^({_LABEL}\.)+[A-Za-z]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?$"),
    AfterValidator(_not_just_www),
]
"""A DNS name in ASCII (internationalised names as xn-- labels), e.g. acme-robotics.com: no scheme, path or port."""

Amount = Annotated[
    Decimal,
    Field(ge=0, decimal_places=2, max_digits=18),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,16}(\.[0-9]{1,2})?$"}),
]


HEADCOUNT = 10_000_000
"""The largest headcount a company can have (the largest employers have about 2.3 million)."""

MAX_WAIT_DAYS = 36_500
"""A recycle wait of at most 100 years: a due time past it would overflow the calendar."""


class Money(EventData):
    """An amount of money: a decimal string and an ISO 4217 currency."""

    amount: Amount = Field(description='A decimal string with at most 2 decimals, e.g. "48000.00".')
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code, e.g. EUR.")


class ExternalIds(EventData):
    """The ids a contact has in the systems around leadflow; any may be missing."""

    segment_anonymous_id: Text300 | None = Field(default=None, description="Segment (or CDP) anonymous visitor id.")
    segment_user_id: Text300 | None = Field(default=None, description="Segment (or CDP) known user id.")
    mautic_contact_id: Text300 | None = Field(default=None, description="Mautic contact id.")
    hubspot_contact_id: Text300 | None = Field(default=None, description="HubSpot contact id.")
    marketo_lead_id: Text300 | None = Field(default=None, description="Marketo lead id.")
    crm_contact_id: Text300 | None = Field(default=None, description="CRM contact or lead id, e.g. Salesforce.")
    other: SystemIds = Field(
        default_factory=dict,
        description="Ids in other systems: system name (at most 50 chars) -> id, e.g. {'pardot': '123'}.",
    )


_NAMED_IDS = (
    "segment_anonymous_id",
    "segment_user_id",
    "mautic_contact_id",
    "hubspot_contact_id",
    "marketo_lead_id",
    "crm_contact_id",
)
_AN_ID = {"type": "string", "minLength": 1}
# The JSON Schema of "an email, or at least one external id": what ContactIdentity's validator checks.
_SOMEONE: list[Any] = [
    {"required": ["email"], "properties": {"email": {"type": "string"}}},
    {
        "required": ["external_ids"],
        "properties": {
            "external_ids": {
                "anyOf": [
                    *({"required": [name], "properties": {name: _AN_ID}} for name in _NAMED_IDS),
                    {"required": ["other"], "properties": {"other": {"minProperties": 1}}},
                ]
            }
        },
    },
]


class ContactIdentity(EventData):
    """Who acted, as far as the sender knows: an email and/or external ids (at least one of them)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": _SOMEONE})

    email: Email | None = Field(default=None, description="Work or personal email address, if known.")
    external_ids: ExternalIds = Field(
        default_factory=ExternalIds,
        description="The contact's ids in the sending and other systems; needed when there is no email.",
    )

    @model_validator(mode="after")
    def _names_someone(self) -> ContactIdentity:
        if not self.email and not _has_an_id(self.external_ids):
            raise ValueError("names no one: needs an email or at least one external id")
        return self


def _has_an_id(ids: ExternalIds) -> bool:
    return any(getattr(ids, name) for name in _NAMED_IDS) or bool(ids.other)


TEXT_TRAITS = ("first_name", "last_name", "title", "phone", "linkedin_url")
"""Traits read as text wherever a contact is shown: a custom field of the same name must be text too."""


_TEXT_OR_NULL: dict[str, Any] = {"type": ["string", "null"], "maxLength": ATTRIBUTE, "pattern": NO_NUL}


class ContactTraits(EventData):
    """What is known about a person: the input of the fit rules about the contact."""

    first_name: Text1000 | None = Field(default=None, description="Given name.")
    last_name: Text1000 | None = Field(default=None, description="Family name.")
    title: Text1000 | None = Field(default=None, description="Job title as entered, e.g. 'VP Operations'.")
    job_function: Text1000 | None = Field(default=None, description="Normalised function, e.g. operations, it.")
    seniority: Text1000 | None = Field(default=None, description="Normalised seniority, e.g. c_level, vp, manager.")
    phone: Text1000 | None = Field(default=None, description="Phone number, E.164 where possible.")
    company: Text300 | None = Field(default=None, description="Company name as entered by the contact.")
    industry: Text1000 | None = Field(default=None, description="Industry, e.g. manufacturing, logistics.")
    employees: int | None = Field(default=None, ge=0, le=HEADCOUNT, description="Company headcount, if known.")
    country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country of the contact."
    )
    city: Text1000 | None = Field(default=None, description="City.")
    linkedin_url: Text1000 | None = Field(default=None, description="LinkedIn profile URL.")
    marketing_consent: bool | None = Field(
        default=None, description="Whether the contact consented to marketing; null if unknown."
    )
    custom: CustomFields = Field(
        default_factory=dict,
        description=(
            "Other fields of the sending system, by field name (at most 200), read by fit rules at "
            "contact.<name>: a field named like a trait (e.g. Mautic's title, the salutation) never replaces that "
            "trait and is read at contact.custom.<name>. A field named like a text trait holds text or null."
        ),
        json_schema_extra={"properties": {name: dict(_TEXT_OR_NULL) for name in TEXT_TRAITS}},
    )

    @model_validator(mode="after")
    def _custom_text_traits_are_text(self) -> ContactTraits:
        for name in TEXT_TRAITS:
            value = self.custom.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"custom.{name} must be text or null, as the trait {name} is (got {value!r})")
        return self


class AccountHint(EventData):
    """What the sender knows about the contact's company, to help lead-to-account matching."""

    crm_account_id: Text200 | None = Field(default=None, description="The account's id in the CRM, if known.")
    company_name: Text300 | None = Field(default=None, description="Company name, e.g. 'Acme Robotics GmbH'.")
    domain: Domain | None = Field(default=None, description="The company's web domain, e.g. acme-robotics.com.")


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
    track_id: Text200 | None = Field(default=None, description="The nurture track, for action nurture.")
    wait_days: int | None = Field(
        default=None, ge=0, le=MAX_WAIT_DAYS, description="Days before the lead may qualify again (nurture or wait)."
    )


class TouchSummary(EventData):
    """One touch as shown in a handoff dossier's timeline."""

    touch_id: uuid.UUID = Field(description="The touch.")
    occurred_at: EventTime = Field(description="When the prospect acted.")
    touch_type: Code = Field(description="What they did, e.g. content_download (see touch.recorded).")
    channel: Text64 | None = Field(default=None, description="The channel, e.g. web, email, webinar, event.")
    campaign: Text200 | None = Field(default=None, description="The campaign, if any.")
    content_id: Text200 | None = Field(default=None, description="The piece of content, if any.")
    url: Url | None = Field(default=None, description="The page, if any.")
    points: FiniteFloat = Field(description="Engagement points this touch contributes now (after decay and caps).")
