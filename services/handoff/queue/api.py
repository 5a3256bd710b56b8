"""The reps' API: the queue, a handoff's dossier and routing decision, and every action on it.

Thin: parse, authorise, call a handler, shape the answer. Every POST takes an Idempotency-Key (a retry gets the
first answer, nothing happens twice) and If-Match with the handoff's ETag (a stale one: 412).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from auth.tokens import Principal
from eventlog.unit_of_work import UnitOfWork
from events.envelope import utc_now
from kernel.auth import require_role
from kernel.dependencies import SessionDep, UnitOfWorkDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem, responses
from services.handoff import handlers, repository
from services.handoff.access import Viewer, viewer
from services.handoff.domain import ActionNotAllowed, HandoffError, InvalidCommand, actions_for_people
from services.handoff.idempotency import KeyReused, replay_of
from services.handoff.org.repository import current_org
from services.handoff.queue import repository as queue
from services.handoff.queue.schemas import (
    AcceptIn,
    Body,
    CloseIn,
    ConvertIn,
    HandoffDetail,
    HandoffPage,
    ReassignIn,
    RejectIn,
    RoutingOut,
    SlaState,
    Sort,
)
from services.handoff.queue.views import detail, summary

router = APIRouter(prefix="/v1/handoffs", tags=["handoffs"], route_class=LimitedRoute)

Sales = Annotated[Principal, Depends(require_role("rep", "manager", "sales_ops"))]
Managers = Annotated[Principal, Depends(require_role("manager", "sales_ops"))]
IdempotencyKey = Annotated[
    str | None, Header(max_length=200, description="A key of your choosing: a retry with it gets the first answer.")
]
IfMatch = Annotated[str | None, Header(max_length=40, description="The ETag of the version you act on.")]
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
ACTION: dict[int | str, dict[str, Any]] = {
    **responses(404, 422),
    409: {"description": "Not allowed in the handoff's state (`status_now`, `allowed_actions`).", "content": _PROBLEM},
    412: {"description": "If-Match names an older version (`current_version`).", "content": _PROBLEM},
}


@router.get("", responses=responses(422))
def list_handoffs(
    session: SessionDep,
    user: Sales,
    status: Annotated[str | None, Query(max_length=20, description="unrouted, assigned, accepted, ...")] = None,
    sla_state: Annotated[SlaState | None, Query(description="Where the SLA clock stands.")] = None,
    fit_grade: Annotated[str | None, Query(pattern="^[A-D]$", description="A to D.")] = None,
    account_id: Annotated[uuid.UUID | None, Query(description="One account's handoffs.")] = None,
    rep_id: Annotated[uuid.UUID | None, Query(description="One rep's handoffs.")] = None,
    sort: Annotated[Sort, Query(description="sla_due (soonest first), score or created (highest, newest first).")] = (
        "sla_due"
    ),
    cursor: Annotated[str | None, Query(max_length=500, description="From the previous page's next_cursor.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HandoffPage:
    """The queue: what the caller sees (a rep their own, a manager their team's and the unrouted), filtered."""
    now = utc_now()
    current = current_org(session)
    seen = viewer(session, user, current)
    asked = queue.QueueQuery(status, sla_state, fit_grade, account_id, rep_id, sort, cursor, limit)
    try:
        rows, next_cursor = queue.page(session, seen, asked, now)
    except queue.BadCursor as error:
        raise _invalid("cursor", str(error)) from None
    return HandoffPage(handoffs=[summary(row, now, current) for row in rows], next_cursor=next_cursor)


@router.get("/{handoff_id}", responses=responses(404))
def get_handoff(handoff_id: uuid.UUID, session: SessionDep, user: Sales) -> JSONResponse:
    """A handoff with its dossier; the ETag is its version."""
    current = current_org(session)
    row = _visible(session, handoff_id, viewer(session, user, current))
    body = detail(session, row, utc_now(), current)
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": _etag(row.version)})


@router.get("/{handoff_id}/routing", responses=responses(404))
def get_routing(handoff_id: uuid.UUID, session: SessionDep, user: Sales) -> RoutingOut:
    """Why the handoff went where it did: every decision, its candidates, skips and the winner."""
    row = _visible(session, handoff_id, viewer(session, user))
    decisions = [
        {"decided_at": d.decided_at.isoformat(), "trigger": d.trigger, "org_version": d.org_version, **d.decision}
        for d in repository.decisions(session, row.id)
    ]
    return RoutingOut(handoff_id=row.id, decisions=decisions)


@router.post("/{handoff_id}/accept", responses=ACTION, response_model=HandoffDetail)
def accept(
    handoff_id: uuid.UUID, body: AcceptIn, request: Request, uow: UnitOfWorkDep, user: Sales,
    idempotency_key: IdempotencyKey = None, if_match: IfMatch = None,
) -> JSONResponse:  # fmt: skip
    """Accept the handoff: the SLA clock stops; marketing hears of it (handoff.accepted)."""
    return _act(uow, user, request, body, handoff_id, idempotency_key, if_match,
                lambda row, now, seen: handlers.accept(uow, row, body.note, now))  # fmt: skip


@router.post("/{handoff_id}/reject", responses=ACTION, response_model=HandoffDetail)
def reject(
    handoff_id: uuid.UUID, body: RejectIn, request: Request, uow: UnitOfWorkDep, user: Sales,
    idempotency_key: IdempotencyKey = None, if_match: IfMatch = None,
) -> JSONResponse:  # fmt: skip
    """Send the handoff back with an agreed reason (another code: 422 listing the allowed ones)."""
    return _act(uow, user, request, body, handoff_id, idempotency_key, if_match,
                lambda row, now, seen: handlers.reject(uow, row, body.reason_code, body.note, now))  # fmt: skip


@router.post("/{handoff_id}/convert", responses=ACTION, response_model=HandoffDetail)
def convert(
    handoff_id: uuid.UUID, body: ConvertIn, request: Request, uow: UnitOfWorkDep, user: Sales,
    idempotency_key: IdempotencyKey = None, if_match: IfMatch = None,
) -> JSONResponse:  # fmt: skip
    """Turn the accepted handoff into an opportunity (opportunity.converted)."""
    amount = body.amount
    return _act(uow, user, request, body, handoff_id, idempotency_key, if_match,
                lambda row, now, seen: handlers.convert(
                    uow, row, name=body.name, amount=amount.amount if amount else None,
                    currency=amount.currency if amount else None, expected_close_date=body.expected_close_date,
                    now=now))  # fmt: skip


@router.post("/{handoff_id}/close", responses=ACTION, response_model=HandoffDetail)
def close(
    handoff_id: uuid.UUID, body: CloseIn, request: Request, uow: UnitOfWorkDep, user: Sales,
    idempotency_key: IdempotencyKey = None, if_match: IfMatch = None,
) -> JSONResponse:  # fmt: skip
    """The opportunity is won or lost (opportunity.closed): the outcome marketing tunes the definition by."""
    amount = body.amount
    return _act(uow, user, request, body, handoff_id, idempotency_key, if_match,
                lambda row, now, seen: handlers.close(
                    uow, row, outcome=body.outcome, lost_reason=body.lost_reason,
                    amount=amount.amount if amount else None, currency=amount.currency if amount else None,
                    note=body.note, now=now))  # fmt: skip


@router.post("/{handoff_id}/reassign", responses=ACTION, response_model=HandoffDetail)
def reassign(
    handoff_id: uuid.UUID, body: ReassignIn, request: Request, uow: UnitOfWorkDep, user: Managers,
    idempotency_key: IdempotencyKey = None, if_match: IfMatch = None,
) -> JSONResponse:  # fmt: skip
    """Give the handoff to another rep (a manager: of their team), or route an unrouted one by hand."""

    def act(row: Any, now: datetime, seen: Viewer) -> None:
        current = current_org(uow.session)
        profile = current.rep_by_email(body.rep_email) if current else None
        if profile is None:
            raise InvalidCommand("rep_email", f"no rep {body.rep_email} in the sales org")
        handlers.reassign(uow, row, seen, profile.id, now)

    return _act(uow, user, request, body, handoff_id, idempotency_key, if_match, act)


def _act(
    uow: UnitOfWork,
    user: Principal,
    request: Request,
    body: Body,
    handoff_id: uuid.UUID,
    key: str | None,
    if_match: str | None,
    action: Callable[[Any, datetime, Viewer], None],
) -> JSONResponse:
    """Load what the caller sees, run the action, answer the handoff as it is now; or the kept answer."""
    now = utc_now()
    try:
        replay = replay_of(user.subject, key, "POST", request.url.path, body.model_dump_json(), now) if key else None
        if replay is not None and (first := replay.first(uow.session)) is not None:
            return _respond(first, replayed=True)
        current = current_org(uow.session)
        seen = viewer(uow.session, user, current)
        row = handlers.load(uow, handoff_id, seen, _version(if_match))
        if replay is not None and (first := replay.first(uow.session)) is not None:
            return _respond(first, replayed=True)  # a concurrent retry committed while we waited for the lock

        def shape() -> handlers.Answer:
            return 200, detail(uow.session, row, now, current).model_dump(mode="json"), {"ETag": _etag(row.version)}

        return _respond(handlers.run(uow, lambda: action(row, now, seen), shape, replay))
    except handlers.NotFound as error:
        raise Problem(404, "Not found", str(error)) from None
    except handlers.StaleVersion as error:
        raise Problem(412, "Precondition failed", str(error), current_version=error.current) from None
    except ActionNotAllowed as error:
        raise Problem(
            409,
            "Not allowed now",
            str(error),
            status_now=error.status,
            allowed_actions=list(actions_for_people(error.status)),
        ) from None
    except handlers.ChangedMeanwhile as error:
        raise Problem(409, "Changed meanwhile", str(error)) from None
    except InvalidCommand as error:
        raise _invalid(error.field, str(error).removeprefix(f"{error.field}: ")) from None
    except (KeyReused, HandoffError) as error:
        raise _invalid("Idempotency-Key" if isinstance(error, KeyReused) else "body", str(error)) from None


def _respond(answer: handlers.Answer, *, replayed: bool = False) -> JSONResponse:
    status, body, headers = answer
    return JSONResponse(
        body, status_code=status, headers={**headers, **({"Idempotent-Replayed": "true"} if replayed else {})}
    )


def _visible(session: Any, handoff_id: uuid.UUID, seen: Viewer) -> Any:
    row = repository.get(session, handoff_id)
    if row is None or not seen.sees(row):
        raise Problem(404, "Not found", f"no handoff {handoff_id}")
    return row


def _etag(version: int) -> str:
    return f'"{version}"'


def _version(if_match: str | None) -> int | None:
    """The version an If-Match names (`"3"`, `W/"3"`); None for none or `*`."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise _invalid("If-Match", f'an ETag of this API, e.g. "3" (got {if_match!r})')
    return int(text)


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}])
