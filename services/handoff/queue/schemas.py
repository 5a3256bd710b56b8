"""Requests and answers of the reps' API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from events.catalog.common import Code, Money
from events.limits import Name300, Note

SlaState = Literal["on_track", "warning", "breached", "none"]
Sort = Literal["sla_due", "score", "created"]


class Body(BaseModel):
    """A request body: unknown fields are refused, so a typo is an error."""

    model_config = ConfigDict(extra="forbid")


class AcceptIn(Body):
    """Accept the handoff."""

    note: Note | None = Field(default=None, description="What the rep plans, for the record.")


class RejectIn(Body):
    """Send the handoff back to marketing with an agreed reason."""

    reason_code: Code = Field(description="A reason code of the published definition's agreed list.")
    note: Note | None = Field(default=None, description="Why, in the rep's words.")


class ConvertIn(Body):
    """Turn the accepted handoff into an opportunity."""

    name: Name300 = Field(description="The opportunity's name, e.g. 'Acme Robotics - 3 sites'.")
    amount: Money | None = Field(default=None, description="The expected amount and its ISO 4217 currency.")
    expected_close_date: date | None = Field(default=None, description="When sales expects to close.")


class CloseIn(Body):
    """The opportunity was won or lost."""

    outcome: Literal["won", "lost"]
    lost_reason: Code | None = Field(default=None, description="For lost: why, e.g. no_budget, competitor, timing.")
    amount: Money | None = Field(default=None, description="The final amount (won) or the amount at stake (lost).")
    note: Note | None = None


class ReassignIn(Body):
    """Give the handoff to another rep (a manager: within their team)."""

    rep_email: str = Field(min_length=3, max_length=320, description="The email of the rep to give it to.")


class RepOut(BaseModel):
    """A rep as the API shows them."""

    rep_id: uuid.UUID
    email: str | None = None
    name: str | None = None
    team: str | None = None


class SlaOut(BaseModel):
    """Where the SLA clock stands."""

    state: SlaState = Field(description="on_track, warning (past the warning share), breached, none (not assigned).")
    warn_at: datetime | None
    due_at: datetime | None
    breach_count: int
    escalated_to: RepOut | None = None


class HandoffSummary(BaseModel):
    """A handoff in the queue."""

    handoff_id: uuid.UUID
    version: int = Field(description="Send it back as If-Match (the ETag) to act on this version only.")
    status: str
    allowed_actions: list[str]
    lead_id: uuid.UUID
    contact: dict[str, Any] = Field(description="Name, email and title of the contact.")
    account: dict[str, Any] | None = Field(description="Id and name of the account, if matched.")
    rep: RepOut | None
    fit_grade: str | None
    score: float = Field(description="Fit plus engagement at qualification.")
    sla: SlaOut
    definition_version: int
    created_at: datetime
    updated_at: datetime


class HandoffPage(BaseModel):
    """A page of the queue."""

    handoffs: list[HandoffSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class HandoffDetail(HandoffSummary):
    """A handoff with its dossier and outcome so far."""

    dossier: dict[str, Any]
    rejection_reasons: list[dict[str, Any]] = Field(description="The agreed reasons a reject may give.")
    accepted_at: datetime | None
    time_to_accept_hours: float | None = Field(description="Business hours on the rep's calendar.")
    rejection_reason: str | None
    opportunity: dict[str, Any] | None
    outcome: dict[str, Any] | None
    closed_at: datetime | None


class RoutingOut(BaseModel):
    """Every routing decision of a handoff, newest last: candidates, skips and why, the winner."""

    handoff_id: uuid.UUID
    decisions: list[dict[str, Any]]
