"""Webhooks' handlers: subscriptions managed by admins, events fanned out to deliveries, attempts recorded."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from eventlog.processor import Handlers
from eventlog.unit_of_work import UnitOfWork
from events.registry import REGISTRY, Event, encode
from events.topics import FEEDBACK, HANDOFFS, LEADS, NURTURE_ACTIONS
from services.webhooks import domain, repository
from services.webhooks.models import WebhookDelivery, WebhookSubscription

OUTGOING_TOPICS = (LEADS, NURTURE_ACTIONS, HANDOFFS, FEEDBACK)
DELIVERABLE_TYPES = frozenset(name for name, entry in REGISTRY.items() if entry.topic in OUTGOING_TOPICS)
# After a rotation, deliveries carry the old secret's signature beside the new one's for this long.
ROTATION_GRACE = timedelta(hours=24)


class SubscriptionNotFound(Exception):  # noqa: N818 - an outcome the API answers with 404
    """No subscription (or delivery) of that id."""


class InvalidSubscription(ValueError):  # noqa: N818 - an outcome the API answers with 422
    """A subscription field that cannot be: `field` names it, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotDead(Exception):  # noqa: N818 - an outcome the API answers with 409
    """Only a dead delivery can be sent again."""


def check_event_types(event_types: Sequence[str]) -> None:
    """Refuse event types that are not delivered over webhooks, naming them."""
    if not event_types:
        raise InvalidSubscription("event_types", "name at least one event type")
    unknown = domain.unknown_types(event_types, DELIVERABLE_TYPES)
    if unknown:
        listed = ", ".join(unknown)
        raise InvalidSubscription(
            "event_types",
            f"not an event type delivered over webhooks: {listed}; choose from {', '.join(sorted(DELIVERABLE_TYPES))}",
        )


def create_subscription(
    uow: UnitOfWork, *, url: str, event_types: Sequence[str], description: str | None, active: bool, now: datetime
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (the only time the secret is shown)."""
    check_event_types(event_types)
    secret = domain.format_secret(secrets.token_bytes(32))
    row = WebhookSubscription(
        id=uuid.uuid4(),
        url=url,
        event_types=list(dict.fromkeys(event_types)),
        description=description,
        active=active,
        secret=secret,
        previous_secret=None,
        previous_secret_until=None,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    uow.commit()
    return row, secret


def update_subscription(
    uow: UnitOfWork, subscription_id: uuid.UUID, changes: dict[str, Any], now: datetime
) -> WebhookSubscription:
    """Change a subscription's url, event types, description or active flag."""
    row = _subscription(uow, subscription_id)
    if "event_types" in changes:
        check_event_types(changes["event_types"])
        changes["event_types"] = list(dict.fromkeys(changes["event_types"]))
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now
    uow.commit()
    return row


def rotate_secret(uow: UnitOfWork, subscription_id: uuid.UUID, now: datetime) -> str:
    """A new signing secret; the old one still signs, beside it, for a day, so receivers can switch over."""
    row = _subscription(uow, subscription_id)
    secret = domain.format_secret(secrets.token_bytes(32))
    row.previous_secret, row.previous_secret_until = row.secret, now + ROTATION_GRACE
    row.secret, row.updated_at = secret, now
    uow.commit()
    return secret


def resend(uow: UnitOfWork, subscription_id: uuid.UUID, delivery_id: int, now: datetime) -> WebhookDelivery:
    """Send a dead delivery again: pending once more, with a fresh 24 h of retries."""
    row = repository.delivery(uow.session, subscription_id, delivery_id)
    if row is None:
        raise SubscriptionNotFound(f"subscription {subscription_id} has no delivery {delivery_id}")
    if row.status != "dead":
        raise NotDead(f"delivery {delivery_id} is {row.status}; only a dead delivery can be sent again")
    row.status, row.attempts, row.first_attempt_at, row.next_attempt_at = "pending", 0, None, now
    uow.commit()
    return row


def _subscription(uow: UnitOfWork, subscription_id: uuid.UUID) -> WebhookSubscription:
    row = repository.subscription(uow.session, subscription_id)
    if row is None:
        raise SubscriptionNotFound(f"no webhook subscription {subscription_id}")
    return row


def fan_out(events: Sequence[Event[Any]], uow: UnitOfWork) -> None:
    """One delivery per (event, active subscription that wants its type), in the consumer's transaction."""
    wanted = repository.active_subscriptions(uow.session)
    rows: list[dict[str, Any]] = []
    for event in events:
        body: bytes | None = None
        for subscription_id, types in wanted:
            if event.type not in types:
                continue
            body = body or encode(event)
            rows.append(
                {
                    "subscription_id": subscription_id,
                    "event_id": event.id,
                    "event_type": event.type,
                    "account_key": event.key,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": event.time,
                }
            )
    # A line's first delivery is due at once; the later ones wait, without a time, until the one before settles.
    lines: list[tuple[uuid.UUID, str]] = [(row["subscription_id"], row["account_key"]) for row in rows]
    armed = repository.armed_lines(uow.session, set(lines))
    for row, line in zip(rows, lines, strict=True):
        row["next_attempt_at"] = None if line in armed else row["created_at"]
        armed.add(line)
    repository.add_deliveries(uow.session, rows)


def handlers() -> Handlers:
    """What the `webhooks` consumer group handles: every event type of the outgoing topics."""
    return Handlers(DELIVERABLE_TYPES, fan_out)


def claim_due(
    uow: UnitOfWork,
    *,
    now: datetime,
    limit: int,
    in_flight: Collection[tuple[int, uuid.UUID, str]],
    per_subscription: int,
    lease: timedelta,
) -> list[domain.Outgoing]:
    """Claim the deliveries to send now (heads of their lines, a few per subscription) and lease them."""
    load: dict[uuid.UUID, int] = {}
    for _, subscription_id, _ in in_flight:
        load[subscription_id] = load.get(subscription_id, 0) + 1
    full = [subscription_id for subscription_id, count in load.items() if count >= per_subscription]
    found = repository.due_heads(
        uow.session, now=now, limit=limit, skip_ids=[id_ for id_, _, _ in in_flight], skip_subscriptions=full
    )
    chosen = domain.choose(
        [candidate for candidate, _ in found],
        in_flight=[(subscription_id, key) for _, subscription_id, key in in_flight],
        per_subscription=per_subscription,
    )
    ids = {candidate.id for candidate in chosen}
    if ids:
        repository.lease(uow.session, ids, now=now, until=now + lease)
    uow.commit()
    return [outgoing for _, outgoing in found if outgoing.delivery_id in ids]


def record_attempts(
    uow: UnitOfWork, attempts: Sequence[tuple[int, domain.Attempt]], *, now: datetime, jitter: Callable[[], float]
) -> list[str]:
    """Record how attempts went, in one transaction: delivered, dead, or pending with the next attempt; the status
    each delivery was left in ("gone" if it was deleted meanwhile)."""
    rows = repository.deliveries_for_update(uow.session, [delivery_id for delivery_id, _ in attempts])
    statuses = []
    for delivery_id, attempt in attempts:
        row = rows.get(delivery_id)
        if row is None or row.status != "pending":  # re-sent or gone meanwhile: the newer state stands
            statuses.append(row.status if row else "gone")
            continue
        first = row.first_attempt_at or now
        result = domain.after_attempt(
            attempts=row.attempts + 1, first_attempt_at=first, attempt=attempt, now=now, jitter=jitter()
        )
        row.status, row.attempts = result.status, result.attempts
        row.last_attempt_at, row.last_response_code, row.last_error = now, result.last_response_code, result.last_error
        if result.next_attempt_at is not None:
            row.next_attempt_at = result.next_attempt_at
        if result.status == "delivered":
            row.delivered_at = now
        if result.status != "pending":
            repository.arm_next(uow.session, row.subscription_id, row.account_key, now)
        statuses.append(result.status)
    uow.commit()
    return statuses
