"""Every event type of leadflow, listed once: its CloudEvents `type`, the topic it travels on, its data model
and what its Kafka key is. `events.registry` builds the registry from this list; nothing registers itself."""

from dataclasses import dataclass

from events.catalog.common import ACCOUNT_KEY
from events.catalog.definitions import DefinitionPublished
from events.catalog.feedback import (
    AccountInsightLogged,
    HandoffAccepted,
    HandoffRejected,
    OpportunityClosed,
    OpportunityConverted,
)
from events.catalog.handoffs import (
    HandoffAssigned,
    HandoffCreated,
    HandoffReassigned,
    HandoffReturnedToQueue,
    HandoffSlaBreached,
    HandoffSlaWarned,
)
from events.catalog.leads import LeadDisqualified, LeadQualified, LeadScored
from events.catalog.nurture import NurtureActionRequested, NurtureEnrolled, NurtureExited
from events.catalog.touches import ContactErased, ContactIdentified, TouchRecorded
from events.envelope import EventData
from events.topics import DEFINITIONS, FEEDBACK, HANDOFFS, LEADS, NURTURE_ACTIONS, TOUCHES


@dataclass(frozen=True)
class EventSpec:
    """One event type of the contract, as listed here."""

    name: str
    topic: str
    data_model: type[EventData]
    key: str = ACCOUNT_KEY


CATALOG = (
    EventSpec(
        "leadflow.definition.published.v1",
        DEFINITIONS,
        DefinitionPublished,
        key="the definition's name (not an account key), so that its versions are ordered",
    ),
    EventSpec("leadflow.handoff.accepted.v1", FEEDBACK, HandoffAccepted),
    EventSpec("leadflow.handoff.rejected.v1", FEEDBACK, HandoffRejected),
    EventSpec("leadflow.opportunity.converted.v1", FEEDBACK, OpportunityConverted),
    EventSpec("leadflow.opportunity.closed.v1", FEEDBACK, OpportunityClosed),
    EventSpec("leadflow.account.insight.logged.v1", FEEDBACK, AccountInsightLogged),
    EventSpec("leadflow.handoff.created.v1", HANDOFFS, HandoffCreated),
    EventSpec("leadflow.handoff.assigned.v1", HANDOFFS, HandoffAssigned),
    EventSpec("leadflow.handoff.reassigned.v1", HANDOFFS, HandoffReassigned),
    EventSpec("leadflow.handoff.sla_breached.v1", HANDOFFS, HandoffSlaBreached),
    EventSpec("leadflow.handoff.sla_warned.v1", HANDOFFS, HandoffSlaWarned),
    EventSpec("leadflow.handoff.returned_to_queue.v1", HANDOFFS, HandoffReturnedToQueue),
    EventSpec("leadflow.lead.scored.v1", LEADS, LeadScored),
    EventSpec("leadflow.lead.qualified.v1", LEADS, LeadQualified),
    EventSpec("leadflow.lead.disqualified.v1", LEADS, LeadDisqualified),
    EventSpec("leadflow.nurture.enrolled.v1", NURTURE_ACTIONS, NurtureEnrolled),
    EventSpec("leadflow.nurture.action.requested.v1", NURTURE_ACTIONS, NurtureActionRequested),
    EventSpec("leadflow.nurture.exited.v1", NURTURE_ACTIONS, NurtureExited),
    EventSpec(
        "leadflow.touch.recorded.v1",
        TOUCHES,
        TouchRecorded,
        key=ACCOUNT_KEY + "; for an anonymous touch (no email, no account), the anonymous visitor id",
    ),
    EventSpec("leadflow.contact.identified.v1", TOUCHES, ContactIdentified),
    EventSpec("leadflow.contact.erased.v1", TOUCHES, ContactErased),
)

__all__ = [
    "CATALOG",
    "AccountInsightLogged",
    "ContactErased",
    "ContactIdentified",
    "DefinitionPublished",
    "EventSpec",
    "HandoffAccepted",
    "HandoffAssigned",
    "HandoffCreated",
    "HandoffReassigned",
    "HandoffRejected",
    "HandoffReturnedToQueue",
    "HandoffSlaBreached",
    "HandoffSlaWarned",
    "LeadDisqualified",
    "LeadQualified",
    "LeadScored",
    "NurtureActionRequested",
    "NurtureEnrolled",
    "NurtureExited",
    "OpportunityClosed",
    "OpportunityConverted",
    "TouchRecorded",
]
