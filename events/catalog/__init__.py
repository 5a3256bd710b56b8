"""Every event type of leadflow; importing this package registers them all in `events.registry.REGISTRY`."""

from events.catalog.definitions import DefinitionPublished
from events.catalog.feedback import (
    AccountInsightLogged,
    HandoffAccepted,
    HandoffRejected,
    OpportunityClosed,
    OpportunityConverted,
)
from events.catalog.handoffs import HandoffAssigned, HandoffCreated, HandoffReassigned, HandoffSlaBreached
from events.catalog.leads import LeadDisqualified, LeadQualified, LeadScored
from events.catalog.nurture import NurtureActionRequested, NurtureEnrolled, NurtureExited
from events.catalog.touches import ContactErased, ContactIdentified, TouchRecorded

__all__ = [
    "AccountInsightLogged",
    "ContactErased",
    "ContactIdentified",
    "DefinitionPublished",
    "HandoffAccepted",
    "HandoffAssigned",
    "HandoffCreated",
    "HandoffReassigned",
    "HandoffRejected",
    "HandoffSlaBreached",
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
