"""Requests and answers of the insights API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from events.catalog.feedback import BuyingRoleHeard
from events.limits import Note, Phrases


class InsightIn(BaseModel):
    """What a rep learned about an account: contacts' buying roles, pain points, micro-trends, free text."""

    model_config = ConfigDict(extra="forbid")

    handoff_id: uuid.UUID | None = Field(default=None, description="The handoff it was learned on, if any.")
    buying_roles: list[BuyingRoleHeard] = Field(default_factory=list, max_length=200)
    pain_points: Phrases = Field(default_factory=list)
    micro_trends: Phrases = Field(default_factory=list)
    note: Note | None = None


class InsightOut(InsightIn):
    """The insight as logged (account.insight.logged)."""

    insight_id: uuid.UUID
    account_id: uuid.UUID
    logged_by: str
    logged_at: datetime
