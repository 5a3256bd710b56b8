"""Queries of lead_scoring's tables. No commits here: handlers commit."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.queries import among, rows
from services.lead_scoring.definitions.document import LeadDefinition, parse_definition
from services.lead_scoring.models import (
    Account,
    Contact,
    LeadDefinitionVersion,
    Touch,
)
from services.lead_scoring.scoring.engagement import Touch as ScoringTouch


def published(session: Session) -> LeadDefinition | None:
    """The definition in force, parsed once per version."""
    row = session.execute(
        select(LeadDefinitionVersion.version, LeadDefinitionVersion.id).where(
            LeadDefinitionVersion.status == "published"
        )
    ).first()
    if row is None:
        return None
    return definition_of_version(session, row.version)


def definition_of_version(session: Session, version: int) -> LeadDefinition:
    """A published version, parsed (published versions never change, so the parse is cached)."""
    document = session.scalar(select(LeadDefinitionVersion.document).where(LeadDefinitionVersion.version == version))
    if document is None:
        raise LookupError(f"no published lead definition version {version}")
    return _parsed(version, _freeze(document))


@lru_cache(maxsize=32)
def _parsed(version: int, frozen: Any) -> LeadDefinition:
    return parse_definition(_thaw(frozen)).model_copy(update={"version": version})


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((key, _freeze(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("__list__", *(_freeze(item) for item in value))
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple) and value and value[0] == "__list__":
        return [_thaw(item) for item in value[1:]]
    if isinstance(value, tuple):
        return {key: _thaw(item) for key, item in value}
    return value


def touches_of(session: Session, contact_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ScoringTouch]]:
    """The touches of these contacts, as the scoring rules see them, oldest first."""
    found: dict[uuid.UUID, list[ScoringTouch]] = defaultdict(list)
    if not contact_ids:
        return found
    touches = rows(
        session,
        select(
            Touch.contact_id,
            Touch.id,
            Touch.occurred_at,
            Touch.touch_type,
            Touch.channel,
            Touch.campaign,
            Touch.content_tags,
        )
        .where(among(session, Touch.contact_id, contact_ids))
        .order_by(Touch.occurred_at, Touch.id),
    )
    for contact_id, touch_id, occurred_at, touch_type, channel, campaign, tags in touches:
        found[contact_id].append(
            ScoringTouch(str(touch_id), occurred_at, touch_type, channel, campaign, tuple(tags or ()))
        )
    return found


def existing_touch_ids(session: Session, touch_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these touches are stored already."""
    if not touch_ids:
        return set()
    return set(rows(session, select(Touch.id).where(among(session, Touch.id, touch_ids))).scalars())


def contacts_of_accounts(session: Session, account_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Contact]]:
    """The live contacts of these accounts, by account."""
    found: dict[uuid.UUID, list[Contact]] = defaultdict(list)
    if account_ids:
        query = (
            select(Contact)
            .where(Contact.account_id.in_(account_ids), Contact.merged_into.is_(None))
            .order_by(Contact.id)
        )
        for contact in session.scalars(query):
            assert contact.account_id is not None
            found[contact.account_id].append(contact)
    return found


def accounts(session: Session, account_ids: Collection[uuid.UUID]) -> list[Account]:
    """These accounts, locked until the transaction ends (see `scope.members_without_account`)."""
    if not account_ids:
        return []
    query = select(Account).where(among(session, Account.id, account_ids)).order_by(Account.id).with_for_update()
    return list(session.scalars(query))
