"""The lead definition published on `leadflow.definitions`: the contract between marketing and sales."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.catalog.common import Code, Recycle
from events.envelope import EventData
from events.limits import EventTime, JsonDocument, Name200, Note, Text64, Text1000, Version

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _weekdays() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class Approval(EventData):
    """One side's approval of a definition version."""

    approved_by: Name200 = Field(description="The user who approved.")
    approved_at: EventTime = Field(description="When.")


class Approvals(EventData):
    """Both sides' approvals: a definition is published only when marketing and sales approved it."""

    marketing: Approval = Field(description="Marketing's approval.")
    sales: Approval = Field(description="Sales' approval.")


class BusinessHours(EventData):
    """The working hours SLA deadlines are counted in."""

    timezone: Text64 = Field(default="UTC", description="IANA time zone, e.g. Europe/Berlin.")
    days: list[Weekday] = Field(default_factory=_weekdays, max_length=7, description="Working days.")
    start: str = Field(default="09:00", pattern=_CLOCK, description="Start of the working day, HH:MM.")
    end: str = Field(default="17:00", pattern=_CLOCK, description="End of the working day, HH:MM.")


class Sla(EventData):
    """How fast sales must answer a handoff, and what happens if it does not."""

    accept_within_business_hours: float = Field(
        gt=0, le=10_000, allow_inf_nan=False, description="Hours, in business hours, to accept or reject."
    )
    on_breach: Literal["escalate", "reassign", "return_to_queue"] = Field(
        description=(
            "escalate: tell the rep's manager; reassign: route to another rep with a new deadline; "
            "return_to_queue: back to the unrouted queue, routed again when someone is available."
        )
    )
    business_hours: BusinessHours = Field(
        default_factory=BusinessHours, description="The working hours the deadline is counted in."
    )


class RejectionReason(EventData):
    """A reason sales may give to reject a handoff, and the recycle policy both sides agreed for it."""

    code: Code = Field(description="The reason code, e.g. bad_timing.")
    label: Text1000 = Field(min_length=1, description="The reason as shown to reps, e.g. 'Not now: bad timing'.")
    recycle: Recycle = Field(description="What happens to a lead rejected for this reason.")


class DefinitionPublished(EventData):
    """A lead definition version, approved by marketing and sales, is now in force (or again, on rollback)."""

    name: Name200 = Field(description="The definition's name, e.g. default or emea-midmarket.")
    version: Version = Field(description="The version now in force; published versions are immutable.")
    previous_version: Version | None = Field(
        default=None, description="The version in force before; null for the first publication."
    )
    rollback: bool = Field(default=False, description="True if this re-publishes an older version.")
    published_by: Name200 = Field(description="The user who published.")
    approvals: Approvals = Field(description="Marketing's and sales' approvals of this version.")
    change_note: Note | None = Field(default=None, description="What changed and why.")
    sla: Sla = Field(description="The handoff SLA.")
    rejection_reasons: list[RejectionReason] = Field(
        min_length=1,
        max_length=100,
        description="The rejection reason codes both sides agreed, each with its recycle policy.",
    )
    document: JsonDocument = Field(
        description="The full definition document (fit, engagement, account, disqualifiers, MQL criteria, ...)."
    )
