"""The lead-definition API: marketing ops and sales ops draft, approve, publish and roll back together."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from auth.tokens import Principal
from events.envelope import utc_now
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import SessionDep, UnitOfWorkDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem
from services.lead_scoring.definitions import commands, known_fields, repository
from services.lead_scoring.definitions.document import DefinitionError, parse_definition
from services.lead_scoring.definitions.field_paths import FIXED_PATHS, describe
from services.lead_scoring.definitions.governance import diff_documents, missing_approvals
from services.lead_scoring.models import LeadDefinitionVersion
from services.lead_scoring.schemas import (
    ApprovalIn,
    DefinitionOut,
    DiffOut,
    DraftIn,
    FieldsOut,
    FieldWarningOut,
    KnownPathOut,
    PublishIn,
    RescoreJobOut,
    RollbackIn,
    definition_out,
)

router = APIRouter(prefix="/v1/definitions", tags=["lead definition"], route_class=LimitedRoute)

Editor = Annotated[Principal, Depends(require_role("marketing_ops", "sales_ops"))]
Reader = Annotated[Principal, Depends(require_role("marketing_ops", "sales_ops", "manager"))]


def _answer(call: Callable[[], Any]) -> Any:
    """Run a command, turning its domain errors into problems."""
    try:
        return call()
    except DefinitionError as error:
        raise Problem(
            422,
            "Invalid lead definition",
            error.errors[0] if len(error.errors) == 1 else f"{len(error.errors)} problems: {error.errors[0]}; ...",
            errors=[{"message": message} for message in error.errors],
        ) from None
    except commands.DefinitionNotFound as error:
        raise Problem(404, "Not found", str(error)) from None
    except commands.DefinitionConflict as error:
        raise Problem(409, "Conflict", str(error), **error.details) from None


def _out(row: LeadDefinitionVersion, session: Any = None, *, warn: Any = None) -> DefinitionOut:
    """The answer about a definition; `warn` (a session) adds the warnings on what its rules read."""
    approvals = commands.approvals_of(row)
    missing = missing_approvals(row.revision, approvals) if row.status == "draft" else []
    history = None
    if session is not None:
        history = repository.audit_trail(session, definition_id=row.id)
    answer = definition_out(row, approvals, missing, document=session is not None, history=history)
    if warn is not None:
        answer.warnings = _warnings(warn, row.document)
    return answer


def _warnings(session: Any, document: dict[str, Any]) -> list[FieldWarningOut]:
    definition = parse_definition(document)
    return [
        FieldWarningOut(
            rule=warning.rule,
            kind="path" if warning.kind == "path" else "touch_type",
            name=warning.name,
            suggestions=list(warning.suggestions),
            message=warning.message,
        )
        for warning in known_fields.warnings_for(session, definition)
    ]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_draft(body: DraftIn, uow: UnitOfWorkDep, user: Editor) -> DefinitionOut:
    """Start a draft definition; it is validated, and each problem names the rule and the field."""
    row = _answer(lambda: commands.create_draft(uow, document=body.document, actor=user, now=utc_now()))
    return _out(row, warn=uow.session)


@router.post("/validate", responses=problems.responses(422))
def validate_definition(body: DraftIn, session: SessionDep, user: Editor) -> list[FieldWarningOut]:
    """Check a document without storing it: 422 naming each broken rule and field, else the warnings (maybe none)."""
    _answer(lambda: parse_definition(body.document))
    return _warnings(session, body.document)


@router.get("/fields")
def list_fields(session: SessionDep, user: Reader) -> FieldsOut:
    """The attribute paths and touch types a definition can read: leadflow's own and those seen in ingested data."""
    paths, touch_types = known_fields.known(session)
    return FieldsOut(
        paths=[
            KnownPathOut(path=path, source="fixed" if path in FIXED_PATHS else "custom", description=describe(path))
            for path in paths
        ],
        touch_types=touch_types,
    )


@router.get("")
def list_definitions(session: SessionDep, user: Reader) -> list[DefinitionOut]:
    """Every draft and version, newest first, with who approved and published what when."""
    return [_out(row) for row in repository.all_definitions(session)]


@router.get("/rescores")
def list_rescores(session: SessionDep, user: Reader) -> list[RescoreJobOut]:
    """Rescoring runs after each publication, with their progress."""
    return [RescoreJobOut.of(job) for job in repository.rescore_jobs(session)]


@router.post("/rollback", responses=problems.responses(404, 409))
def rollback(body: RollbackIn, uow: UnitOfWorkDep, user: Editor) -> DefinitionOut:
    """Put an earlier version back in force (as a new version number); every lead is rescored."""
    row = _answer(
        lambda: commands.rollback_to(uow, version=body.version, actor=user, now=utc_now(), change_note=body.change_note)
    )
    return _out(row)


@router.get("/{definition_id}", responses=problems.responses(404))
def get_definition(definition_id: uuid.UUID, session: SessionDep, user: Reader) -> DefinitionOut:
    """A definition with its document and history."""
    row = _answer(lambda: commands.get_definition(session, definition_id))
    return _out(row, session, warn=session)


@router.put("/{definition_id}", responses=problems.responses(404, 409))
def edit_draft(definition_id: uuid.UUID, body: DraftIn, uow: UnitOfWorkDep, user: Editor) -> DefinitionOut:
    """Replace a draft's document: a new revision, and both approvals are cleared."""
    row = _answer(
        lambda: commands.update_draft(
            uow, definition_id=definition_id, document=body.document, actor=user, now=utc_now()
        )
    )
    return _out(row, warn=uow.session)


@router.delete("/{definition_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems.responses(404, 409))
def delete_draft(definition_id: uuid.UUID, uow: UnitOfWorkDep, user: Editor) -> None:
    """Delete a draft (and its history); 409 for a published or superseded version, which stays as history."""
    _answer(lambda: commands.delete_draft(uow, definition_id=definition_id))


@router.get("/{definition_id}/diff", responses=problems.responses(404))
def diff_draft(definition_id: uuid.UUID, session: SessionDep, user: Reader) -> DiffOut:
    """What a draft changes against the version in force."""
    row = _answer(lambda: commands.get_definition(session, definition_id))
    published = repository.published_row(session)
    base = published.document if published else {}
    return DiffOut(against_version=published.version if published else None, changes=diff_documents(base, row.document))


@router.post("/{definition_id}/approvals", responses=problems.responses(404, 409))
def approve(definition_id: uuid.UUID, body: ApprovalIn, uow: UnitOfWorkDep, user: Editor) -> DefinitionOut:
    """Approve the draft's revision for your side: marketing_ops for marketing, sales_ops for sales."""
    row = _answer(
        lambda: commands.approve_draft(
            uow, definition_id=definition_id, revision=body.revision, actor=user, now=utc_now()
        )
    )
    return _out(row)


@router.post("/{definition_id}/publish", responses=problems.responses(404, 409))
def publish(definition_id: uuid.UUID, body: PublishIn, uow: UnitOfWorkDep, user: Editor) -> DefinitionOut:
    """Publish a draft both sides approved; refused with 409 naming the missing approval otherwise."""
    row = _answer(
        lambda: commands.publish_draft(
            uow, definition_id=definition_id, actor=user, now=utc_now(), change_note=body.change_note
        )
    )
    return _out(row)
