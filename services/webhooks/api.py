"""The webhooks admin API: subscriptions, their secrets, and each one's delivery log."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, status

from auth.tokens import Principal
from events.envelope import utc_now
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import SessionDep, UnitOfWorkDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem
from services.webhooks import handlers, repository
from services.webhooks.domain import url_problem
from services.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    DeliveryStatus,
    SecretOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from services.webhooks.sender import host_problem

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], route_class=LimitedRoute)

Admin = Annotated[Principal, Depends(require_role("admin"))]
R = TypeVar("R")
MAX_ID = 2**63 - 1  # what a BIGINT holds
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="The delivery's id, from the delivery log.")]
NOT_FOUND = problems.responses(404)
NOT_DEAD: dict[int | str, dict[str, Any]] = {
    409: {**problems.responses(409)[409], "description": "The delivery is not dead: only a dead one is re-sent."}
}


def production(request: Request) -> bool:
    """Whether URLs must resolve to global addresses only (outside local mode)."""
    return bool(request.app.state.settings.environment == "production")


Guarded = Annotated[bool, Depends(production)]


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Invalid webhook subscription", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )


def _answer(call: Callable[[], R]) -> R:
    """Run a command, turning its outcomes into problems."""
    try:
        return call()
    except handlers.InvalidSubscription as error:
        raise _invalid(error.field, error.message) from None
    except handlers.SubscriptionNotFound as error:
        raise Problem(404, "Not found", str(error)) from None
    except handlers.NotDead as error:
        raise Problem(409, "Conflict", str(error)) from None


def _check_url(url: str, guarded: bool) -> None:
    problem = url_problem(url)
    if problem is None and guarded:
        problem = host_problem(url)
    if problem is not None:
        raise _invalid("url", problem)


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED)
def create_subscription(body: SubscriptionIn, uow: UnitOfWorkDep, user: Admin, guarded: Guarded) -> SubscriptionCreated:
    """Subscribe a URL to event types; the answer holds the signing secret, shown this once."""
    _check_url(body.url, guarded)
    row, secret = _answer(
        lambda: handlers.create_subscription(
            uow,
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            active=body.active,
            now=utc_now(),
        )
    )
    return SubscriptionCreated(**SubscriptionOut.of(row).model_dump(), secret=secret)


@router.get("/subscriptions")
def list_subscriptions(session: SessionDep, user: Admin) -> list[SubscriptionOut]:
    """Every subscription, oldest first, without secrets."""
    return [SubscriptionOut.of(row) for row in repository.subscriptions(session)]


@router.get("/subscriptions/{subscription_id}", responses=NOT_FOUND)
def get_subscription(subscription_id: uuid.UUID, session: SessionDep, user: Admin) -> SubscriptionOut:
    """One subscription, without its secret."""
    row = repository.subscription(session, subscription_id)
    if row is None:
        raise Problem(404, "Not found", f"no webhook subscription {subscription_id}")
    return SubscriptionOut.of(row)


@router.patch("/subscriptions/{subscription_id}", responses=NOT_FOUND)
def update_subscription(
    subscription_id: uuid.UUID, body: SubscriptionPatch, uow: UnitOfWorkDep, user: Admin, guarded: Guarded
) -> SubscriptionOut:
    """Change the URL, event types, description, or pause and resume deliveries with `active`."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    for name in ("url", "event_types", "active"):
        if name in changes and changes[name] is None:
            raise _invalid(name, "may be left out, not null")
    if "url" in changes:
        _check_url(changes["url"], guarded)
    row = _answer(lambda: handlers.update_subscription(uow, subscription_id, changes, utc_now()))
    return SubscriptionOut.of(row)


@router.post("/subscriptions/{subscription_id}/secret", responses=NOT_FOUND)
def rotate_secret(subscription_id: uuid.UUID, uow: UnitOfWorkDep, user: Admin) -> SecretOut:
    """Issue a new signing secret (shown this once); the old one signs beside it for 24 hours."""
    return SecretOut(secret=_answer(lambda: handlers.rotate_secret(uow, subscription_id, utc_now())))


@router.get("/subscriptions/{subscription_id}/deliveries", responses=NOT_FOUND)
def list_deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    user: Admin,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this status.")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="The cursor: deliveries older than this id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many.")] = 50,
) -> DeliveryPage:
    """The delivery log of a subscription, newest first: status, attempts, last answer, next attempt."""
    if repository.subscription(session, subscription_id) is None:
        raise Problem(404, "Not found", f"no webhook subscription {subscription_id}")
    rows = repository.deliveries(session, subscription_id, status=status, before=before, limit=limit)
    cursor = rows[-1].id if len(rows) == limit else None
    return DeliveryPage(deliveries=[DeliveryOut.of(row) for row in rows], next_cursor=cursor)


@router.post("/subscriptions/{subscription_id}/deliveries/{delivery_id}/resend", responses={**NOT_FOUND, **NOT_DEAD})
def resend_delivery(
    subscription_id: uuid.UUID, delivery_id: DeliveryId, uow: UnitOfWorkDep, user: Admin
) -> DeliveryOut:
    """Send a dead delivery again, with a fresh 24 hours of retries; 409 if it is not dead."""
    return DeliveryOut.of(_answer(lambda: handlers.resend(uow, subscription_id, delivery_id, utc_now())))
