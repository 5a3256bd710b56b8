"""Events handoff emits on `leadflow.handoffs`: a qualified lead's way to a named sales rep under an SLA."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from events.catalog.common import AccountKey, Code, HandoffRef
from events.limits import EventTime, Name200, Text200, Version


class HandoffCreated(HandoffRef):
    """A qualified lead became a handoff with a dossier, waiting to be routed."""

    account_key: AccountKey = Field(description="The account key, as used for the Kafka message key.")
    qualification_cycle: Version = Field(description="The lead's qualification cycle this handoff serves.")
    reason: Literal["criteria", "hand_raiser"] = Field(description="Why the lead qualified.")
    definition_version: Version = Field(description="The version of the lead definition that qualified it.")
    lead_qualified_event_id: uuid.UUID = Field(description="The lead.qualified event the handoff was built from.")


class HandoffAssigned(HandoffRef):
    """A handoff was routed to a sales rep, who must accept or reject it by `due_at`."""

    rep_id: uuid.UUID = Field(description="The sales rep.")
    routing_rule: Name200 = Field(
        description="How the rep was chosen, e.g. account_owner, territory:dach, round_robin."
    )
    due_at: EventTime = Field(description="The SLA deadline to accept or reject.")
    definition_version: Version = Field(description="The definition whose SLA set the deadline.")
    account_key: AccountKey | None = Field(default=None, description="The account key, as used for the Kafka key.")
    warn_at: EventTime | None = Field(default=None, description="When the SLA warning falls, if one is set.")


class HandoffReassigned(HandoffRef):
    """A handoff moved from one rep to another, with a new deadline."""

    previous_rep_id: uuid.UUID = Field(description="The rep it was assigned to.")
    rep_id: uuid.UUID = Field(description="The rep it is assigned to now.")
    reason: Code = Field(
        description="Why, e.g. sla_breached, rep_unavailable, manager_override, territory_change.",
        examples=["sla_breached", "rep_unavailable", "manager_override", "territory_change"],
    )
    due_at: EventTime = Field(description="The new SLA deadline.")
    reassigned_by: Text200 | None = Field(default=None, description="The user who reassigned it; null if automatic.")
    definition_version: Version | None = Field(default=None, description="The definition whose SLA set the deadline.")


class HandoffSlaBreached(HandoffRef):
    """A rep neither accepted nor rejected a handoff within the SLA."""

    rep_id: uuid.UUID = Field(description="The rep who missed the deadline.")
    due_at: EventTime = Field(description="The deadline that was missed.")
    on_breach: Literal["escalate", "reassign", "return_to_queue"] = Field(
        description="What the definition's SLA says happens now."
    )
    escalated_to: uuid.UUID | None = Field(default=None, description="The manager escalated to, for escalate.")
    breach_count: Version = Field(description="How many deadlines this handoff has missed so far.")
    definition_version: Version | None = Field(default=None, description="The definition whose SLA applied.")


class HandoffSlaWarned(HandoffRef):
    """A share of the SLA's business time has passed and the rep has not answered yet."""

    rep_id: uuid.UUID = Field(description="The rep who has yet to answer.")
    due_at: EventTime = Field(description="The deadline coming up.")
    definition_version: Version | None = Field(default=None, description="The definition whose SLA applies.")


class HandoffReturnedToQueue(HandoffRef):
    """A handoff was taken back from its rep into the unrouted queue, to be routed again."""

    previous_rep_id: uuid.UUID = Field(description="The rep it was assigned to.")
    reason: Code = Field(
        description="Why, e.g. sla_breached, nobody_eligible, manager_override.",
        examples=["sla_breached", "nobody_eligible", "manager_override"],
    )
    definition_version: Version | None = Field(default=None, description="The definition whose SLA policy applied.")
