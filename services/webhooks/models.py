"""Tables of webhooks: the subscriptions and one delivery per (subscription, event)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from database.base import schema_metadata
from database.types import UtcDateTime

Serial = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Tables of webhooks, in the `webhooks` schema."""

    metadata = schema_metadata("webhooks")
    type_annotation_map = {list[str]: JSON, datetime: UtcDateTime, dict[str, Any]: JSON}


class WebhookSubscription(Base):
    """An endpoint that wants some event types, and the secret its deliveries are signed with."""

    __tablename__ = "webhook_subscription"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]]
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean)
    # Kept as it is, because signing needs it; never logged and never answered after the create (or rotate) call.
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event to one subscription: the CloudEvent bytes, and how its delivery goes."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        # The line of a (subscription, account key): its earliest pending delivery goes first.
        Index("ix_webhook_delivery_line", "subscription_id", "account_key", "status", "id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_log", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(String(200))
    account_key: Mapped[str] = mapped_column(String(320))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), comment="pending, delivered or dead")
    attempts: Mapped[int] = mapped_column(Integer)
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    # When it is due; null while it waits behind an earlier pending delivery of its line, which arms it when done.
    next_attempt_at: Mapped[datetime | None]
    last_response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
