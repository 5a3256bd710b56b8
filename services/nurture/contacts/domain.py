"""How facts from the leads and touches topics change nurture's view of a contact, and whether it may be reached.

Pure, time from the event. The contact is read as the tracks' `LeadProfile`: one value for entry, skips and consent.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.nurture.tracks.matching import LeadProfile

CAMPAIGNS_KEPT = 50
UNSUBSCRIBE = "unsubscribe"


def may_contact(lead: LeadProfile) -> str | None:
    """Why the contact may not receive a marketing action now (None: it may)."""
    if lead.erased_at is not None:
        return "erased"
    if lead.unsubscribed_at is not None or lead.marketing_consent is False:
        return "unsubscribed"
    if not lead.email:
        return "unreachable"  # nothing marketing automation could deliver to
    return None


def touched(campaigns: Sequence[str], campaign: str | None) -> list[str]:
    """The campaigns a contact touched, with `campaign` as the newest, the oldest dropped past the limit."""
    if not campaign:
        return list(campaigns)
    kept = [known for known in campaigns if known != campaign]
    return [*kept, campaign][-CAMPAIGNS_KEPT:]
