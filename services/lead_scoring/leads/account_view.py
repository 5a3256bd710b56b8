"""The account as marketing and sales read it: contacts, roll-up score and buying committee, from stored leads."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.models import Account, Contact, Lead
from services.lead_scoring.schemas import AccountContactOut, AccountOut, CommitteeOut
from services.lead_scoring.scoring.rules import roll_up_engagement


def account_view(
    account: Account, contacts: Sequence[Contact], leads: Mapping[uuid.UUID, Lead], definition: LeadDefinition | None
) -> AccountOut:
    """The account with its contacts; the roll-up and committee as the definition in force reads the stored scores."""
    ranking = definition.ranking if definition else None
    rows = []
    for contact in contacts:
        lead = leads.get(contact.id)
        rows.append(
            AccountContactOut(
                id=contact.id,
                email=contact.email,
                buying_role=contact.buying_role,
                stage=lead.stage if lead else None,
                fit_score=lead.fit_score if lead else None,
                fit_grade=lead.fit_grade if lead else None,
                engagement_score=lead.engagement_score if lead else None,
                combined_score=ranking.score(lead.fit_score, lead.engagement_score) if lead and ranking else None,
            )
        )
    roll_up, committee = None, None
    if definition is not None:
        # Disqualified contacts count for nothing in the roll-up, as when the account is scored.
        engagement = {
            str(contact.id): lead.engagement_score
            for contact in contacts
            if (lead := leads.get(contact.id)) and lead.stage != "disqualified"
        }
        roles = {str(contact.id): contact.buying_role for contact in contacts}
        score = roll_up_engagement(definition, engagement, roles)
        roll_up = score.score
        committee = CommitteeOut(
            roles_present=list(score.roles_covered),
            roles_missing=list(score.missing_roles),
            engaged_contacts=[uuid.UUID(contact_id) for contact_id in score.engaged_contacts],
            min_engaged_contacts=definition.account.committee.min_engaged_contacts,
            met=score.committee_met,
        )
    return AccountOut(
        id=account.id,
        name=account.name,
        domain=account.domain,
        external_id=account.external_id,
        attributes=account.attributes,
        roll_up_score=roll_up,
        definition_version=definition.version if definition else None,
        committee=committee,
        contacts=rows,
    )
