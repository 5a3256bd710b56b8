"""Queries of webhooks; no commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from database.queries import among, rows
from database.types import UtcDateTime
from services.webhooks.domain import Candidate, Outgoing, signing_secrets
from services.webhooks.models import WebhookDelivery, WebhookSubscription


def active_subscriptions(session: Session) -> list[tuple[uuid.UUID, list[str]]]:
    """(id, event types) of every active subscription, oldest first."""
    query = (
        select(WebhookSubscription.id, WebhookSubscription.event_types)
        .where(WebhookSubscription.active.is_(True))
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    return [(id_, list(types)) for id_, types in session.execute(query)]


def add_deliveries(session: Session, deliveries: Sequence[dict[str, Any]]) -> None:
    """Insert delivery rows in one statement, in the order given (their ids keep it: the order of the lines)."""
    if deliveries:
        session.execute(insert(WebhookDelivery), list(deliveries))


def armed_lines(session: Session, lines: Collection[tuple[uuid.UUID, str]]) -> set[tuple[uuid.UUID, str]]:
    """Which of `lines` have a pending delivery that is armed (due at some time), locking those deliveries: a
    dispatcher settling one of them waits for this transaction, and then sees the deliveries it adds."""
    if not lines:
        return set()
    query = (
        select(WebhookDelivery.subscription_id, WebhookDelivery.account_key)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at.is_not(None),
            among(session, WebhookDelivery.subscription_id, list({subscription for subscription, _ in lines})),
            among(session, WebhookDelivery.account_key, list({key for _, key in lines})),
        )
        .order_by(WebhookDelivery.id)  # locks taken in id order, as the recorder takes them: no deadlock
        .with_for_update()
    )
    wanted = set(lines)
    return {(subscription, key) for subscription, key in rows(session, query) if (subscription, key) in wanted}


def arm_next(session: Session, subscription_id: uuid.UUID, account_key: str, now: datetime) -> None:
    """Make the earliest pending delivery of a line due now, if it was waiting behind the one just settled."""
    head = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.account_key == account_key,
            WebhookDelivery.status == "pending",
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    ).first()
    if head is not None and head.next_attempt_at is None:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == head.id).values(next_attempt_at=now))


def due_heads(
    session: Session,
    *,
    now: datetime,
    limit: int,
    skip_ids: Collection[int] = (),
    skip_subscriptions: Collection[uuid.UUID] = (),
) -> list[tuple[Candidate, Outgoing]]:
    """Due pending deliveries of active subscriptions that head their line (no earlier pending one of the same
    subscription and account key), locked against other dispatchers (skipping rows another one holds).

    Only armed deliveries are due: the ones waiting behind others have no time yet, so a long backlog costs
    nothing here. The line check stays, because it is what keeps the order."""
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        and_(
            earlier.subscription_id == WebhookDelivery.subscription_id,
            earlier.account_key == WebhookDelivery.account_key,
            earlier.status == "pending",
            earlier.id < WebhookDelivery.id,
        )
    )
    query = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.subscription_id,
            WebhookDelivery.account_key,
            WebhookDelivery.event_id,
            WebhookDelivery.body,
            WebhookSubscription.url,
            WebhookSubscription.secret,
            WebhookSubscription.previous_secret,
            WebhookSubscription.previous_secret_until,
        )
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.active.is_(True),
            ~blocked,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if skip_ids:
        query = query.where(~among(session, WebhookDelivery.id, list(skip_ids)))
    if skip_subscriptions:
        query = query.where(~among(session, WebhookDelivery.subscription_id, list(skip_subscriptions)))
    query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    found = []
    for row in rows(session, query):
        candidate = Candidate(row.id, row.subscription_id, row.account_key)
        secrets = signing_secrets(row.secret, row.previous_secret, row.previous_secret_until, now)
        outgoing = Outgoing(row.id, row.subscription_id, row.account_key, row.url, str(row.event_id), row.body, secrets)
        found.append((candidate, outgoing))
    return found


def lease(session: Session, ids: Collection[int], *, now: datetime, until: datetime) -> None:
    """Mark deliveries as being sent: not due again before `until` (should the sender die), first tried `now`."""
    session.execute(
        update(WebhookDelivery)
        .where(among(session, WebhookDelivery.id, list(ids)))
        .values(
            next_attempt_at=until,
            first_attempt_at=func.coalesce(WebhookDelivery.first_attempt_at, literal(now, UtcDateTime)),
        )
    )


def deliveries_for_update(session: Session, ids: Collection[int]) -> dict[int, WebhookDelivery]:
    """Deliveries by id, locked (in id order, so that two recorders never deadlock) for recording attempts."""
    query = (
        select(WebhookDelivery)
        .where(among(session, WebhookDelivery.id, list(ids)))
        .order_by(WebhookDelivery.id)
        .with_for_update()
    )
    return {row.id: row for row in session.scalars(query)}


def subscription(session: Session, subscription_id: uuid.UUID) -> WebhookSubscription | None:
    """A subscription by id."""
    return session.get(WebhookSubscription, subscription_id)


def subscriptions(session: Session) -> list[WebhookSubscription]:
    """Every subscription, oldest first."""
    query = select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    return list(session.scalars(query))


def delivery(session: Session, subscription_id: uuid.UUID, delivery_id: int) -> WebhookDelivery | None:
    """One delivery of a subscription."""
    query = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == subscription_id
    )
    return session.scalar(query)


def deliveries(
    session: Session, subscription_id: uuid.UUID, *, status: str | None, before: int | None, limit: int
) -> list[WebhookDelivery]:
    """A page of a subscription's deliveries, newest first, older than the cursor `before` when given."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))
