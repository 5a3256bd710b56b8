"""Requests and answers of the webhooks API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.webhooks.models import WebhookDelivery, WebhookSubscription

DeliveryStatus = Literal["pending", "delivered", "dead"]


class SubscriptionIn(BaseModel):
    """A new subscription: where to POST, and which event types."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="An http or https URL that takes POSTs.")
    event_types: list[str] = Field(
        min_length=1, max_length=100, description="CloudEvents types to deliver, e.g. leadflow.lead.qualified.v1."
    )
    description: str | None = Field(default=None, max_length=500, description="What the endpoint is, for people.")
    active: bool = Field(default=True, description="Inactive subscriptions get no new deliveries and send none.")


class SubscriptionPatch(BaseModel):
    """Changes to a subscription; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = None


class SubscriptionOut(BaseModel):
    """A subscription, without its secret."""

    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: WebhookSubscription) -> SubscriptionOut:
        """The answer for a subscription row."""
        return cls(
            id=row.id,
            url=row.url,
            event_types=list(row.event_types),
            description=row.description,
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class SubscriptionCreated(SubscriptionOut):
    """A new subscription, with its signing secret: shown this once, never again."""

    secret: str = Field(description="The Standard Webhooks signing secret (`whsec_` + base64). Store it now.")


class SecretOut(BaseModel):
    """A new signing secret: shown this once. The previous one still signs beside it for 24 hours."""

    secret: str


class DeliveryOut(BaseModel):
    """One event's delivery to a subscription, and how it went."""

    id: int
    event_id: uuid.UUID
    event_type: str
    account_key: str
    status: DeliveryStatus
    attempts: int
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When it is tried next (pending only).")
    last_response_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryOut:
        """The answer for a delivery row."""
        return cls(
            id=row.id,
            event_id=row.event_id,
            event_type=row.event_type,
            account_key=row.account_key,
            status=row.status,
            attempts=row.attempts,
            first_attempt_at=row.first_attempt_at,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            last_response_code=row.last_response_code,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )


class DeliveryPage(BaseModel):
    """A page of deliveries, newest first; `next_cursor` fetches the older ones."""

    deliveries: list[DeliveryOut]
    next_cursor: int | None = Field(description="Pass as `before` for the next page; null on the last one.")
