"""The stored history a simulation replays, read with Core selects: no ORM object per row, and on PostgreSQL no Row."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import psycopg
from psycopg.rows import RowFactory, namedtuple_row, tuple_row
from sqlalchemy import Select, String, select
from sqlalchemy.orm import Session

from services.lead_scoring.leads.batch import consent_of
from services.lead_scoring.leads.scope import MEMBER_COLUMNS, account_attributes, contact_attributes
from services.lead_scoring.models import Account, Contact, SalesOutcome, Touch
from services.lead_scoring.scoring.engagement import Touch as ScoringTouch
from services.lead_scoring.scoring.engagement import require_aware
from services.lead_scoring.simulation.runner import AccountHistory, ContactHistory, History, Outcome, paused_collection

CHUNK = 10_000
Touches = tuple[list[ScoringTouch], list[str]]  # a contact's touches and, in step, their source systems


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
    accounts = {
        row.id: account_attributes(cast(Account, row))  # reads attributes, domain and name, which the row has
        for row in _rows(session, select(Account.id, Account.attributes, Account.domain, Account.name))
    }
    touches = _touches(session, end, since)
    outcomes = _outcomes(session)
    query = (
        select(*MEMBER_COLUMNS, Contact.id.cast(String).label("key"))
        .where(Contact.merged_into.is_(None))
        .order_by(Contact.account_id, Contact.id)
    )
    grouped: list[AccountHistory] = []
    loose: list[ContactHistory] = []
    members: list[ContactHistory] = []
    current: uuid.UUID | None = None
    for row in _rows(session, query):  # ordered by account: an account's contacts come together
        contact = _contact(row, touches.pop(row.key, ([], [])), outcomes.get(row.key, []))
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


def _contact(row: Any, own: Touches, outcomes: list[Outcome]) -> ContactHistory:
    consent = consent_of(cast(Contact, row))  # reads attributes and erased_at, which the row has
    touches, sources = own
    if row.consent == "unsubscribed" and not any(touch.touch_type == "unsubscribe" for touch in touches):
        consent = replace(consent, unsubscribed=True)  # its unsubscribe is before the window: from the start
    return ContactHistory(
        contact_id=row.id,
        email=row.email,
        attributes=contact_attributes(cast(Contact, row)),  # reads email, attributes and buying_role
        consent=consent,
        buying_role=row.buying_role,
        touches=tuple(touches),
        source_systems=tuple(sources),
        outcomes=tuple(outcomes),
    )


def _touches(session: Session, end: datetime, since: datetime | None) -> dict[str, Touches]:
    """The touches of each contact, by the contact's id as text, each made as its row arrives."""
    postgres = session.get_bind().dialect.name == "postgresql"
    query = select(
        Touch.contact_id.cast(String),
        Touch.id.cast(String) if postgres else Touch.id,  # SQLite keeps 32 hex digits: str() below makes the text
        Touch.occurred_at,
        Touch.touch_type,
        Touch.channel,
        Touch.campaign,
        Touch.content_tags.cast(String),
        Touch.source_system,
    ).where(Touch.occurred_at < end)
    if since is not None:
        query = query.where(Touch.occurred_at >= since)
    found: defaultdict[str, Touches] = defaultdict(lambda: ([], []))
    for key, touch_id, moment, touch_type, channel, campaign, tags, source in _rows(session, query, tuple_row):
        touches, sources = found[key]
        touches.append(ScoringTouch(str(touch_id), moment, touch_type, channel, campaign, _tag_set(tags)))
        sources.append(source)
    return found


def _rows(session: Session, query: Select[Any], row_factory: RowFactory[Any] = namedtuple_row) -> Iterator[Any]:
    """The rows of a select; on PostgreSQL as psycopg gives them, streamed in its binary format.

    A million touches and a hundred thousand contacts: SQLAlchemy's work per row (a Row, the column types'
    converters) would cost more than the queries, while psycopg's loaders, written in C, give what the column
    types would (uuids, JSON, aware times). Streamed in chunks (libpq 17 or later, as psycopg[binary] bundles),
    the rows are used while the server still sends the rest, and a million of them are never held at once.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return iter(connection.execute(query))
    # The driver then gives datetime.UTC times (not a zone named Etc/UTC), which every later comparison and
    # subtraction of the replay handles faster. LOCAL: only until this transaction ends.
    connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    compiled = query.compile(connection)
    driver = cast(psycopg.Connection[Any], connection.connection.driver_connection)
    return driver.cursor(binary=True, row_factory=row_factory).stream(str(compiled), compiled.params, size=CHUNK)


@lru_cache(maxsize=4096)
def _tag_set(text: str | None) -> tuple[str, ...]:
    # Tags come as JSON text: there are a few distinct values, each parsed once.
    return tuple(json.loads(text) or ()) if text else ()


def _outcomes(session: Session) -> dict[str, list[Outcome]]:
    found: dict[str, list[Outcome]] = defaultdict(list)
    query = select(
        SalesOutcome.contact_id.cast(String), SalesOutcome.outcome, SalesOutcome.at, SalesOutcome.reason
    ).order_by(SalesOutcome.at, SalesOutcome.event_id)
    for contact_key, outcome, at, reason in _rows(session, query):
        found[contact_key].append(Outcome(outcome, at, reason))
    return found
