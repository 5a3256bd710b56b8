"""POST /v1/accounts/{id}/insights: sales logs what it learned about an account, for marketing to act on."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.responses import JSONResponse

from auth.tokens import Principal
from events.envelope import utc_now
from kernel.auth import require_role
from kernel.dependencies import UnitOfWorkDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem, responses
from services.handoff import handlers
from services.handoff.access import viewer
from services.handoff.domain import InvalidCommand
from services.handoff.idempotency import KeyReused, replay_of
from services.handoff.insights.handlers import log_insight
from services.handoff.insights.schemas import InsightIn, InsightOut

router = APIRouter(prefix="/v1/accounts", tags=["handoffs"], route_class=LimitedRoute)
Sales = Annotated[Principal, Depends(require_role("rep", "manager", "sales_ops"))]


@router.post(
    "/{account_id}/insights",
    status_code=status.HTTP_201_CREATED,
    response_model=InsightOut,
    responses=responses(404, 422),
)
def post_insight(
    account_id: uuid.UUID,
    body: InsightIn,
    request: Request,
    uow: UnitOfWorkDep,
    user: Sales,
    idempotency_key: Annotated[str | None, Header(max_length=200, description="A retry gets the first answer.")] = None,
) -> JSONResponse:
    """Log contacts' buying roles, pain points, micro-trends and notes on an account you hold a handoff of."""
    now = utc_now()
    try:
        replay = replay_of(user.subject, idempotency_key, "POST", request.url.path, body.model_dump_json(), now) if (
            idempotency_key
        ) else None  # fmt: skip
        if replay is not None and (first := replay.first(uow.session)) is not None:
            return JSONResponse(first[1], status_code=first[0], headers={"Idempotent-Replayed": "true"})
        seen = viewer(uow.session, user)
        logged: list[InsightOut] = []
        answer = handlers.run(
            uow,
            lambda: logged.append(log_insight(uow, account_id, body, seen, now)),
            lambda: (201, logged[0].model_dump(mode="json"), {}),
            replay,
        )
    except handlers.NotFound as error:
        raise Problem(404, "Not found", str(error)) from None
    except InvalidCommand as error:
        message = str(error).removeprefix(f"{error.field}: ")
        raise Problem(422, "Invalid insight", str(error), errors=[{"field": error.field, "message": message}]) from None
    except KeyReused as error:
        raise Problem(422, "Invalid request", f"Idempotency-Key: {error}") from None
    return JSONResponse(answer[1], status_code=answer[0], headers=answer[2])
