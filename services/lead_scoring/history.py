"""The stored history a simulation replays, loaded with Core selects in chunks: no ORM object per row."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import DateTime, String, select, type_coerce
from sqlalchemy.orm import Session

from services.lead_scoring.accounts import account_attributes, contact_attributes
from services.lead_scoring.engagement import Touch as ScoringTouch
from services.lead_scoring.engagement import require_aware
from services.lead_scoring.handlers import consent_of
from services.lead_scoring.models import Account, Contact, SalesOutcome, Touch
from services.lead_scoring.simulation import AccountHistory, ContactHistory, History, Outcome, paused_collection

CHUNK = 20_000


def load_history(session: Session, *, end: datetime, since: datetime | None = None) -> History:
    """Every live contact with its touches before `end` (from `since`, if given) and its sales outcomes, by account.

    Touches before the simulated window are history the replay needs (decay, caps, earlier qualifications), so
    by default every touch before `end` is loaded. Every sales outcome is loaded: a rejection before the window
    may have ended a cycle, and a decision after it still tells how good the lead was.
    """
    require_aware(end, "end")
    with paused_collection():
        return _load(session, end, since)


def _load(session: Session, end: datetime, since: datetime | None) -> History:
    connection = session.connection()
    accounts = {
        row.id: account_attributes(cast(Account, row))  # reads attributes, domain and name, which the row has
        for row in connection.execute(select(Account.id, Account.attributes, Account.domain, Account.name))
    }
    touches = _touches(session, end, since)
    outcomes = _outcomes(session)
    query = (
        select(
            Contact.id,
            Contact.id.cast(String).label("key"),
            Contact.email,
            Contact.account_id,
            Contact.attributes,
            Contact.buying_role,
            Contact.consent,
            Contact.erased_at,
        )
        .where(Contact.merged_into.is_(None))
        .order_by(Contact.account_id, Contact.id)
    )
    grouped: list[AccountHistory] = []
    loose: list[ContactHistory] = []
    members: list[ContactHistory] = []
    current: uuid.UUID | None = None
    for row in connection.execute(query):  # ordered by account: an account's contacts come together
        contact = _contact(row, touches.pop(row.key, []), outcomes.get(row.key, []))
        if row.account_id not in accounts:
            loose.append(contact)
            continue
        if row.account_id != current and members:
            grouped.append(AccountHistory(current, accounts[current], tuple(members)))
            members = []
        current = row.account_id
        members.append(contact)
    if current is not None and members:
        grouped.append(AccountHistory(current, accounts[current], tuple(members)))
    # A contact without an account is scored alone, as the live path does.
    grouped.extend(AccountHistory(None, None, (contact,)) for contact in loose)
    return History(tuple(grouped))


def _contact(row: Any, own: list[Any], outcomes: list[Outcome]) -> ContactHistory:
    consent = consent_of(cast(Contact, row))  # reads attributes, consent and erased_at, which the row has
    touches = tuple(
        ScoringTouch(str(touch_id), moment, touch_type, channel, campaign, _tag_set(tags))
        for _, touch_id, moment, touch_type, channel, campaign, tags, _ in own
    )
    if consent.unsubscribed and any(touch.touch_type == "unsubscribe" for touch in touches):
        consent = replace(consent, unsubscribed=False)  # the replay unsubscribes it at that touch
    return ContactHistory(
        contact_id=row.id,
        email=row.email,
        attributes=contact_attributes(cast(Contact, row)),  # reads email, attributes and buying_role
        consent=consent,
        buying_role=row.buying_role,
        touches=touches,
        source_systems=tuple(row[-1] for row in own),
        outcomes=tuple(outcomes),
    )


def _touches(session: Session, end: datetime, since: datetime | None) -> dict[str, list[Any]]:
    """The touch rows of each contact, by the contact's id as text."""
    # A million rows: the column types' per-row converters would cost more than the query. ids come as text
    # (a touch id as the live path writes it), tags as JSON text, and on PostgreSQL the driver's aware times
    # are used as they are.
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # The driver then gives datetime.UTC times (not a zone named Etc/UTC), which every later comparison
        # and subtraction of the replay handles faster. LOCAL: only until this transaction ends.
        session.connection().exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    query = select(
        Touch.contact_id.cast(String),
        Touch.id.cast(String) if postgres else Touch.id,
        type_coerce(Touch.occurred_at, DateTime(timezone=True)) if postgres else Touch.occurred_at,
        Touch.touch_type,
        Touch.channel,
        Touch.campaign,
        Touch.content_tags.cast(String),
        Touch.source_system,
    ).where(Touch.occurred_at < end)
    if since is not None:
        query = query.where(Touch.occurred_at >= since)
    found: dict[str, list[Any]] = defaultdict(list)
    result = session.connection().execute(query, execution_options={"yield_per": CHUNK})
    for rows in result.partitions():
        for row in rows:  # the rows themselves: a new tuple per row would cost a second of a million
            found[row[0]].append(row)
    return found


@lru_cache(maxsize=4096)
def _tag_set(text: str | None) -> tuple[str, ...]:
    # Tags come as JSON text: there are a few distinct values, each parsed once.
    return tuple(json.loads(text) or ()) if text else ()


def _outcomes(session: Session) -> dict[str, list[Outcome]]:
    found: dict[str, list[Outcome]] = defaultdict(list)
    query = select(
        SalesOutcome.contact_id.cast(String), SalesOutcome.outcome, SalesOutcome.at, SalesOutcome.reason
    ).order_by(SalesOutcome.at, SalesOutcome.event_id)
    for contact_key, outcome, at, reason in session.connection().execute(query):
        found[contact_key].append(Outcome(outcome, at, reason))
    return found
