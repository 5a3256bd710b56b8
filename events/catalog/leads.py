"""Events lead_scoring emits on `leadflow.leads`: scores, qualification and disqualification."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from events.catalog.common import HEADCOUNT, Code, Email, FitGrade, LeadRef, Stage, TouchSummary
from events.envelope import EventData
from events.limits import (
    Count,
    EventTime,
    FiniteFloat,
    Name200,
    Note,
    Text64,
    Text200,
    Text253,
    Text320,
    Text1000,
    Text2048,
    Version,
)

TOUCH_IDS = 100  # an active contact's rule fires on thousands of touches: an event names the latest


class RuleHit(EventData):
    """One rule of the lead definition that fired, and what it contributed to the score."""

    rule_id: Name200 = Field(description="The rule's id in the definition, e.g. fit.industry.")
    kind: Literal["fit", "engagement", "account", "disqualifier", "hand_raiser"] = Field(
        description="The section of the definition the rule belongs to."
    )
    label: Note = Field(description="The rule in words, e.g. 'Industry is manufacturing or logistics'.")
    matched: Note | None = Field(default=None, description="What matched, e.g. 'industry=manufacturing'.")
    points: FiniteFloat = Field(description="Points the rule gives, before decay and caps (negative for penalties).")
    decayed_points: FiniteFloat = Field(description="Points after time decay; equal to `points` for fit rules.")
    cap_hit: bool = Field(default=False, description="True if the rule's cap per window limited its points.")
    touch_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=TOUCH_IDS,
        description=f"The touches that made an engagement rule fire, the latest {TOUCH_IDS} at most.",
    )


class Score(EventData):
    """The scores of a lead and the rule hits that explain them."""

    fit_score: FiniteFloat = Field(description="Fit: who the contact and account are.")
    fit_grade: FitGrade = Field(description="The fit score mapped to a grade by the definition.")
    engagement_score: FiniteFloat = Field(description="Engagement: what the contact did, decayed over time.")
    account_score: FiniteFloat = Field(description="The account's roll-up of its contacts' scores.")
    definition_version: Version = Field(description="The version of the lead definition that scored.")
    breakdown: list[RuleHit] = Field(default_factory=list, description="Every rule that fired.")


class LeadProfile(EventData):
    """Who the lead is, as far as nurture needs to choose a track and reach the contact."""

    email: Email | None = Field(default=None, description="The contact's email address, if known.")
    buying_role: Code | None = Field(default=None, description="Their role in the buying committee, if known.")
    industry: Text1000 | None = Field(default=None, description="The account's (else the contact's) industry.")
    employees: int | None = Field(
        default=None, ge=0, le=HEADCOUNT, description="The account's (else the contact's) headcount."
    )
    country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country of the contact, else account."
    )
    time_zone: Text64 | None = Field(
        default=None, description="The contact's IANA time zone (custom field time_zone), e.g. Europe/Berlin."
    )
    marketing_consent: bool | None = Field(
        default=None, description="Whether the contact consented to marketing; null if unknown."
    )
    unsubscribed: bool = Field(default=False, description="True once the contact unsubscribed.")


class LeadScored(Score, LeadRef):
    """A lead's score or stage changed."""

    stage: Stage = Field(description="The lifecycle stage after this change.")
    previous_stage: Stage | None = Field(default=None, description="The stage before; null for a new lead.")
    trigger_event_id: uuid.UUID | None = Field(
        default=None, description="The event that caused the change (a touch, a publish); null for decay."
    )
    reason: Text64 | None = Field(
        default=None,
        description="Why the lead is at this stage: criteria, hand_raiser, a disqualifier's reason code, "
        "recycled_<action>, no_longer_qualifies (a publication returned an MQL no handoff had accepted to engaged).",
    )
    profile: LeadProfile | None = Field(
        default=None, description="Who the lead is (contact and account attributes nurture reads); null if unknown."
    )


class ContactSummary(EventData):
    """The contact as a sales rep first sees them."""

    contact_id: uuid.UUID = Field(description="The contact.")
    email: Email = Field(description="Email address.")
    first_name: Text1000 | None = Field(default=None, description="Given name.")
    last_name: Text1000 | None = Field(default=None, description="Family name.")
    title: Text1000 | None = Field(default=None, description="Job title.")
    phone: Text1000 | None = Field(default=None, description="Phone number.")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country.")
    linkedin_url: Text1000 | None = Field(default=None, description="LinkedIn profile URL.")
    buying_role: Code | None = Field(default=None, description="Their role in the buying committee, if known.")


class AccountSummary(EventData):
    """The account as a sales rep first sees it."""

    account_id: uuid.UUID = Field(description="The account.")
    name: Text320 = Field(description="Company name, else its domain, else its account key.")
    domain: Text253 | None = Field(default=None, description="Web domain.")
    industry: Text1000 | None = Field(default=None, description="Industry.")
    employees: int | None = Field(default=None, ge=0, le=HEADCOUNT, description="Headcount.")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country.")
    crm_account_id: Text200 | None = Field(default=None, description="The account's id in the CRM, if known.")
    engaged_contacts: Count = Field(description="How many of its contacts are engaged or beyond.")


class CommitteeMember(EventData):
    """A known member of the account's buying committee."""

    contact_id: uuid.UUID = Field(description="The contact.")
    email: Email = Field(description="Email address.")
    name: Text2048 | None = Field(default=None, description="Full name.")
    title: Text1000 | None = Field(default=None, description="Job title.")
    buying_role: Code | None = Field(
        default=None,
        description="champion, decision_maker, economic_buyer, influencer, user, blocker, ...; null if unknown.",
    )
    stage: Stage = Field(description="The member's own lifecycle stage.")
    engagement_score: FiniteFloat = Field(description="The member's engagement score.")
    last_touch_at: EventTime | None = Field(default=None, description="Their most recent touch.")


class LeadQualified(LeadRef):
    """A lead met the MQL criteria (or raised its hand): everything handoff needs to build the dossier."""

    qualification_cycle: Version = Field(
        description="1 for the first qualification; +1 each time the lead qualifies again after recycling."
    )
    reason: Literal["criteria", "hand_raiser"] = Field(
        description="criteria: met the MQL criteria; hand_raiser: a fast-lane touch such as a demo request."
    )
    definition_version: Version = Field(description="The version of the lead definition that qualified it.")
    contact: ContactSummary = Field(description="The contact.")
    account: AccountSummary | None = Field(default=None, description="The account; null if unmatched.")
    buying_committee: list[CommitteeMember] = Field(
        default_factory=list,
        max_length=50,
        description="Other known contacts of the account, those with a buying role first, then the most engaged "
        "(at most 50).",
    )
    score: Score = Field(description="The scores and the rule hits that explain them.")
    recent_touches: list[TouchSummary] = Field(
        default_factory=list, max_length=20, description="The contact's last touches, newest first (at most 20)."
    )


class LeadDisqualified(LeadRef):
    """A lead was ruled out: a disqualifier fired, or sales' feedback disqualified it."""

    reason_code: Code = Field(
        description="Why, e.g. competitor, student, existing_customer, no_consent, or a sales rejection reason.",
        examples=["competitor", "student", "existing_customer", "no_consent", "invalid_contact"],
    )
    previous_stage: Stage = Field(description="The stage the lead was in.")
    definition_version: Version = Field(description="The version of the lead definition in force.")
    rule_id: Text200 | None = Field(default=None, description="The disqualifier rule that fired, if any.")
    handoff_id: uuid.UUID | None = Field(
        default=None, description="The handoff sales rejected, when the recycle policy disqualified the lead."
    )
    detail: Note | None = Field(default=None, description="A human-readable explanation.")
