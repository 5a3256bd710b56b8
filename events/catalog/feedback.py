"""Sales' decisions on `leadflow.feedback`, back to marketing: accepted, rejected and why, won or lost."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from events.catalog.common import Code, HandoffRef, Money, Recycle
from events.envelope import EventData
from events.limits import EventDate, EventTime, FiniteFloat, Name200, Name300, Note, Phrases, Text200, Text300, Version


class HandoffAccepted(HandoffRef):
    """A rep accepted a handoff: the lead is now sales-accepted."""

    rep_id: uuid.UUID = Field(description="The rep who accepted.")
    within_sla: bool = Field(description="True if accepted before the SLA deadline.")
    note: Note | None = Field(default=None, description="The rep's note, if any.")
    assigned_at: EventTime | None = Field(default=None, description="When the handoff was assigned to this rep.")
    time_to_accept_business_hours: FiniteFloat | None = Field(
        default=None, ge=0, description="Business hours on the rep's calendar from assignment to acceptance."
    )
    definition_version: Version | None = Field(default=None, description="The definition that qualified the lead.")


class HandoffRejected(HandoffRef):
    """A rep sent a handoff back to marketing, with an agreed reason and what happens to the lead."""

    rep_id: uuid.UUID = Field(description="The rep who rejected.")
    reason_code: Code = Field(
        description="A rejection reason code from the published definition's agreed list.",
        examples=["bad_timing", "no_budget", "wrong_contact", "not_a_fit", "duplicate", "existing_opportunity"],
    )
    note: Note | None = Field(default=None, description="The rep's free-text explanation.")
    recycle: Recycle = Field(description="What the recycle policy for this reason does with the lead.")
    definition_version: Version = Field(description="The definition whose reason list and policy applied.")


class OpportunityRef(HandoffRef):
    """The opportunity an event is about, and the handoff it came from."""

    opportunity_id: uuid.UUID = Field(description="The opportunity in leadflow.")
    crm_opportunity_id: Text200 | None = Field(default=None, description="The opportunity's id in the CRM, if any.")
    rep_id: uuid.UUID = Field(description="The rep who owns the opportunity.")
    definition_version: Version | None = Field(default=None, description="The definition that qualified the lead.")


class OpportunityConverted(OpportunityRef):
    """Sales turned an accepted handoff into an opportunity."""

    name: Name300 = Field(description="The opportunity's name, e.g. 'Acme Robotics - 3 sites'.")
    amount: Money | None = Field(default=None, description="The expected amount, if estimated.")
    expected_close_date: EventDate | None = Field(default=None, description="When sales expects to close.")


class OpportunityClosed(OpportunityRef):
    """An opportunity was won or lost: the outcome marketing tunes the definition against."""

    outcome: Literal["won", "lost"] = Field(description="Won or lost.")
    amount: Money | None = Field(default=None, description="The final amount (won) or the amount at stake (lost).")
    lost_reason: Code | None = Field(
        default=None,
        description="For lost: why, e.g. no_budget, competitor, no_decision, timing, price, product_fit.",
    )
    lost_to_competitor: Text300 | None = Field(default=None, description="For lost to a competitor: which one.")
    note: Note | None = Field(default=None, description="The rep's note, if any.")


class BuyingRoleHeard(EventData):
    """A contact's role in the buying committee, as a rep heard it."""

    contact_id: uuid.UUID = Field(description="The contact.")
    buying_role: Code = Field(
        description="The contact's role in the buying committee.",
        examples=["champion", "decision_maker", "economic_buyer", "influencer", "user", "blocker"],
    )


class AccountInsightLogged(EventData):
    """A rep logged what they learned about an account: a contact's buying role, pain points."""

    insight_id: uuid.UUID = Field(description="The insight.")
    account_id: uuid.UUID = Field(description="The account.")
    contact_id: uuid.UUID | None = Field(default=None, description="The contact it is about, if one.")
    buying_role: Code | None = Field(
        default=None,
        description="The contact's role in the buying committee.",
        examples=["champion", "decision_maker", "economic_buyer", "influencer", "user", "blocker"],
    )
    pain_points: Phrases = Field(default_factory=list, description="Pain points heard, in the rep's words.")
    buying_roles: list[BuyingRoleHeard] = Field(
        default_factory=list,
        max_length=200,
        description="Every contact's role heard; `contact_id` and `buying_role` repeat it when there is one.",
    )
    micro_trends: Phrases = Field(
        default_factory=list, description="Small shifts seen in the account, e.g. 'hiring a second plant manager'."
    )
    note: Note | None = Field(default=None, description="Free text.")
    handoff_id: uuid.UUID | None = Field(default=None, description="The handoff it was logged on, if any.")
    logged_by: Name200 = Field(description="The user who logged it.")
