"""The routing API: the sales org's configuration as one versioned document (ETag, If-Match), reps' everyday
edits, validation without saving, and the audit of every change."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response
from sqlalchemy.orm import Session

from auth.tokens import Principal
from events.envelope import utc_now
from events.limits import INT64_MAX
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import SessionDep, UnitOfWorkDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem
from services.handoff.org import handlers, repository
from services.handoff.org.changes import describe_changes
from services.handoff.org.document import RoutingDocument, RoutingDocumentError, parse_document
from services.handoff.org.domain import check_document
from services.handoff.org.models import RoutingOrgVersion
from services.handoff.org.schemas import (
    AuditEntryOut,
    AuditPage,
    ProblemItem,
    RepChangeOut,
    RepOut,
    RepPatch,
    RepsOut,
    RoutingOut,
    SaveOut,
    ValidationOut,
)

router = APIRouter(prefix="/v1/routing", tags=["routing"], route_class=LimitedRoute)

Reader = Annotated[Principal, Depends(require_role("manager", "sales_ops"))]
Writer = Annotated[Principal, Depends(require_role("sales_ops"))]
IfMatch = Annotated[
    str | None,
    Header(
        max_length=200,
        description='The ETag of the version you edited (from GET /v1/routing, e.g. "v3"); a stale one is 412. '
        "Left out, the save applies to whatever version is in force.",
    ),
]
R = TypeVar("R")
_ETAG = re.compile(r'^(W/)?"v(\d{1,9})"$')
DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RoutingDocument"}}},
    }
}
NOT_FOUND = problems.responses(404)
STALE: dict[int | str, dict[str, Any]] = {
    412: {
        **problems.responses(422)[422],
        "description": "If-Match names a version that is no longer in force: GET the document again and redo the edit.",
    }
}


def etag(version: int) -> str:
    """The ETag of a version."""
    return f'"v{version}"'


def _expected_version(if_match: str | None, session: Session) -> int | None:
    """The version If-Match names (None: no precondition); 412 if it cannot be in force."""
    if if_match is None:
        return None
    if if_match.strip() == "*":  # any version: only "there is one" is asked
        latest = repository.latest_version(session)
        if latest is None:
            raise Problem(412, "Precondition failed", "If-Match: * but no routing configuration is saved yet")
        return latest.version
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise Problem(412, "Precondition failed", f'If-Match: {if_match!r} is not an ETag of this API (e.g. "v3")')
    return int(match.group(2))


def _invalid(error: RoutingDocumentError) -> Problem:
    first = error.problems[0]
    return Problem(
        422,
        "Invalid routing configuration",
        first.message + (f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""),
        errors=[problem.model_dump() for problem in error.problems],
    )


def _answer(call: Callable[[], R]) -> R:
    """Run a command, turning its outcomes into problems."""
    try:
        return call()
    except RoutingDocumentError as error:
        raise _invalid(error) from None
    except handlers.StaleVersion as error:
        raise Problem(412, "Precondition failed", str(error), current_version=error.current) from None
    except handlers.NothingSaved as error:
        raise Problem(404, "Not found", str(error)) from None


def _latest(session: SessionDep) -> RoutingOrgVersion:
    latest = repository.latest_version(session)
    if latest is None:
        raise Problem(404, "Not found", "no routing configuration is saved yet: import one (PUT /v1/routing)")
    return latest


@router.get("", responses=NOT_FOUND, response_model_exclude_none=True)  # the document as stored: no nulls
def get_routing(session: SessionDep, user: Reader, response: Response) -> RoutingOut:
    """The routing configuration in force, with its version as ETag (send it back in If-Match to save)."""
    latest = _latest(session)
    response.headers["ETag"] = etag(latest.version)
    return RoutingOut(
        version=latest.version,
        saved_by=latest.saved_by,
        saved_at=latest.saved_at,
        summary=latest.summary,
        document=RoutingDocument.model_validate(latest.document),
    )


@router.put("", openapi_extra=DOCUMENT_BODY, responses={**NOT_FOUND, **STALE})
def put_routing(
    body: Annotated[dict[str, Any], Body(description="The whole routing document.")],
    uow: UnitOfWorkDep,
    user: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> SaveOut:
    """Replace the whole configuration: a new version and an audit entry (none when nothing changed)."""
    expected = _expected_version(if_match, uow.session)
    document = _answer(lambda: parse_document(body))
    saved = _answer(
        lambda: handlers.save_document(
            uow, document, actor=user.subject, role=user.role, now=utc_now(), expected_version=expected
        )
    )
    response.headers["ETag"] = etag(saved.version)
    return SaveOut(version=saved.version, changed=saved.changed, changes=saved.changes, summary=saved.summary)


@router.post("/validate", openapi_extra=DOCUMENT_BODY)
def validate_routing(
    body: Annotated[dict[str, Any], Body(description="A routing document to check.")], session: SessionDep, user: Writer
) -> ValidationOut:
    """Check a document without saving it: its problems (rule or rep, field, reason) and what it would change."""
    latest = repository.latest_version(session)
    against = latest.version if latest else None
    try:
        document = parse_document(body)
    except RoutingDocumentError as error:
        errors = [ProblemItem(**problem.model_dump()) for problem in error.problems]
        return ValidationOut(valid=False, errors=errors, against_version=against, changes=[])
    found = check_document(document)
    before = RoutingDocument.model_validate(latest.document) if latest else None
    return ValidationOut(
        valid=not found,
        errors=[ProblemItem(**problem.model_dump()) for problem in found],
        against_version=against,
        changes=describe_changes(before, document),
    )


@router.get("/reps", responses=NOT_FOUND)
def list_reps(session: SessionDep, user: Reader, response: Response) -> RepsOut:
    """Every rep and manager of the configuration in force, in its order."""
    latest = _latest(session)
    document = RoutingDocument.model_validate(latest.document)
    response.headers["ETag"] = etag(latest.version)
    return RepsOut(version=latest.version, reps=[RepOut.of(rep, _managers(document)) for rep in document.reps])


@router.patch("/reps/{email}", responses={**NOT_FOUND, **STALE})
def update_rep(
    email: Annotated[str, Path(max_length=320, description="The rep's email (any case).")],
    body: RepPatch,
    uow: UnitOfWorkDep,
    user: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> RepChangeOut:
    """Change a rep's active flag, out-of-office periods, weight or capacity: a new version and an audit entry."""
    changes = body.changes()
    for name, value in changes.items():
        if value is None:
            raise Problem(
                422,
                "Invalid rep change",
                f"{name}: may be left out, not null",
                errors=[{"field": name, "message": "may be left out, not null"}],
            )
    expected = _expected_version(if_match, uow.session)
    saved = _answer(
        lambda: handlers.update_rep(
            uow, email, changes, actor=user.subject, role=user.role, now=utc_now(), expected_version=expected
        )
    )
    document = RoutingDocument.model_validate(_latest(uow.session).document)
    rep = next(rep for rep in document.reps if rep.email == email.casefold())
    response.headers["ETag"] = etag(saved.version)
    return RepChangeOut(
        version=saved.version,
        changed=saved.changed,
        changes=saved.changes,
        summary=saved.summary,
        rep=RepOut.of(rep, _managers(document)),
    )


@router.get("/audit")
def list_audit(
    session: SessionDep,
    user: Reader,
    before: Annotated[
        int | None, Query(ge=1, le=INT64_MAX, description="The cursor: entries older than this entry id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many.")] = 50,
) -> AuditPage:
    """Every change to the sales org, newest first: who, when, the action, and one line per change."""
    rows = repository.audit_entries(session, before=before, limit=limit)
    cursor = rows[-1].id if len(rows) == limit else None
    return AuditPage(entries=[AuditEntryOut.of(row) for row in rows], next_cursor=cursor)


def _managers(document: RoutingDocument) -> dict[str, str | None]:
    return {team.name: team.manager for team in document.teams}
