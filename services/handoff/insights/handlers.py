"""A rep logs what they learned about an account: handoff keeps it, its projection takes the buying roles, and
marketing hears of it (account.insight.logged), so lead_scoring can update the buying committee."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from eventlog.unit_of_work import UnitOfWork
from events.catalog import AccountInsightLogged
from events.registry import new_event
from services.handoff.access import Viewer
from services.handoff.domain import InvalidCommand
from services.handoff.emission import SOURCE
from services.handoff.handlers import NotFound
from services.handoff.insights.schemas import InsightIn, InsightOut
from services.handoff.models import HandoffRecord, Insight
from services.handoff.projection import repository as projected
from services.handoff.projection.models import ProjectedAccount


def log_insight(uow: UnitOfWork, account_id: uuid.UUID, body: InsightIn, viewer: Viewer, now: datetime) -> InsightOut:
    """Keep the insight, apply its buying roles to the projection and emit it; nothing is committed here."""
    session = uow.session
    account = session.get(ProjectedAccount, account_id)
    handoffs = list(session.scalars(select(HandoffRecord).where(HandoffRecord.account_id == account_id)))
    if account is None or not (viewer.sees_all or any(viewer.sees(row) for row in handoffs)):
        raise NotFound(f"no account {account_id} among your handoffs")
    if body.handoff_id is not None and body.handoff_id not in {row.id for row in handoffs}:
        raise InvalidCommand("handoff_id", f"handoff {body.handoff_id} is not one of account {account_id}")
    contacts = projected.contacts(session, [role.contact_id for role in body.buying_roles])
    for index, role in enumerate(body.buying_roles):
        contact = contacts.get(role.contact_id)
        if contact is None or contact.account_id != account_id:
            raise InvalidCommand(
                f"buying_roles.{index}.contact_id", f"contact {role.contact_id} is not of this account"
            )
        contact.buying_role = role.buying_role
    out = InsightOut(
        **body.model_dump(), insight_id=uuid.uuid4(), account_id=account_id, logged_by=viewer.subject, logged_at=now
    )
    session.add(
        Insight(
            id=out.insight_id,
            account_id=account_id,
            handoff_id=body.handoff_id,
            logged_by=viewer.subject[:200],
            logged_at=now,
            insight=body.model_dump(mode="json", exclude={"note"}),
            note=body.note,
        )
    )
    one = body.buying_roles[0] if len(body.buying_roles) == 1 else None
    data = AccountInsightLogged(
        insight_id=out.insight_id,
        account_id=account_id,
        contact_id=one.contact_id if one else None,
        buying_role=one.buying_role if one else None,
        buying_roles=body.buying_roles,
        pain_points=body.pain_points,
        micro_trends=body.micro_trends,
        note=body.note,
        handoff_id=body.handoff_id,
        logged_by=viewer.subject[:200],
    )
    uow.emit(new_event(data, key=account.account_key, time=now, source=SOURCE, subject=str(account_id)))
    return out
