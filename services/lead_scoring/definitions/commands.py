"""Commands on lead definitions: draft, edit, approve (each side), publish, roll back. Each one commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from auth.tokens import Principal
from eventlog.unit_of_work import UnitOfWork
from events.registry import new_event
from services.lead_scoring.definitions import repository
from services.lead_scoring.definitions.document import LeadDefinition, parse_definition
from services.lead_scoring.definitions.governance import SIDE_OF_ROLE, Approval, missing_approvals, published_event
from services.lead_scoring.models import DefinitionAudit, LeadDefinitionVersion, RescoreJob

SOURCE = "lead_scoring"


class DefinitionNotFound(LookupError):  # noqa: N818 - reads as what it is
    """No definition with that id or version."""


class DefinitionConflict(Exception):  # noqa: N818 - reads as what it is
    """The definition is not in a state that allows this (e.g. publishing without both approvals)."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


def get_definition(session: Session, definition_id: uuid.UUID) -> LeadDefinitionVersion:
    """A definition by id, or DefinitionNotFound."""
    row = repository.definition_by_id(session, definition_id=definition_id)
    if row is None:
        raise DefinitionNotFound(f"no lead definition {definition_id}")
    return row


def version_row(session: Session, version: int) -> LeadDefinitionVersion:
    """A published (or formerly published) version, or DefinitionNotFound."""
    row = repository.row_of_version(session, version=version)
    if row is None:
        raise DefinitionNotFound(f"no published lead definition version {version}")
    return row


def _audit(
    session: Session,
    row: LeadDefinitionVersion,
    action: str,
    actor: Principal,
    now: datetime,
    detail: str | None = None,
) -> None:
    session.add(
        DefinitionAudit(
            definition_id=row.id,
            action=action,
            actor=actor.subject,
            role=actor.role,
            revision=row.revision,
            at=now,
            detail=detail,
        )
    )


def create_draft(
    uow: UnitOfWork, *, document: dict[str, Any], actor: Principal, now: datetime
) -> LeadDefinitionVersion:
    """Start a draft from a document (validated: DefinitionError names each broken rule and field)."""
    definition = parse_definition(document)
    published = repository.published_row(uow.session)
    row = LeadDefinitionVersion(
        id=uuid.uuid4(),
        name=definition.name,
        status="draft",
        revision=1,
        document=_document(definition),
        based_on_version=published.version if published else None,
        created_by=actor.subject,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    uow.session.flush()
    _audit(uow.session, row, "created", actor, now)
    uow.commit()
    return row


def update_draft(
    uow: UnitOfWork, *, definition_id: uuid.UUID, document: dict[str, Any], actor: Principal, now: datetime
) -> LeadDefinitionVersion:
    """Replace a draft's document; every edit makes a new revision and clears both approvals."""
    row = _draft(uow.session, definition_id)
    definition = parse_definition(document)
    row.document = _document(definition)
    row.name = definition.name
    row.revision += 1
    row.updated_at = now
    row.marketing_approved_by = row.marketing_approved_revision = row.marketing_approved_at = None
    row.sales_approved_by = row.sales_approved_revision = row.sales_approved_at = None
    _audit(uow.session, row, "edited", actor, now, "approvals cleared")
    uow.commit()
    return row


def delete_draft(uow: UnitOfWork, *, definition_id: uuid.UUID) -> None:
    """Delete a draft and its trail; a published (or superseded) version is refused: versions are history."""
    row = get_definition(uow.session, definition_id)
    if row.status != "draft":
        raise DefinitionConflict(
            f"definition {definition_id} is version {row.version} ({row.status}): only drafts can be deleted; "
            "published versions stay as history (roll back to put another in force)"
        )
    repository.delete_audit_trail(uow.session, definition_id=row.id)
    uow.session.delete(row)
    uow.commit()


def approve_draft(
    uow: UnitOfWork, *, definition_id: uuid.UUID, revision: int, actor: Principal, now: datetime
) -> LeadDefinitionVersion:
    """Approve a draft's `revision` for the side the actor's role speaks for (marketing_ops or sales_ops)."""
    row = _draft(uow.session, definition_id)
    side = SIDE_OF_ROLE.get(actor.role)
    if side is None:
        raise DefinitionConflict(f"only marketing_ops or sales_ops approve a definition; you are {actor.role}")
    if revision != row.revision:
        raise DefinitionConflict(
            f"you approved revision {revision}, but the draft is at revision {row.revision}: review it again",
            current_revision=row.revision,
        )
    setattr(row, f"{side}_approved_by", actor.subject)
    setattr(row, f"{side}_approved_revision", revision)
    setattr(row, f"{side}_approved_at", now)
    _audit(uow.session, row, f"approved_{side}", actor, now)
    uow.commit()
    return row


def approvals_of(row: LeadDefinitionVersion) -> dict[str, Approval | None]:
    """Both sides' approvals of a definition, as stored."""
    return {
        side: Approval(by=by, revision=revision, at=at)
        if (by := getattr(row, f"{side}_approved_by")) is not None
        and (revision := getattr(row, f"{side}_approved_revision")) is not None
        and (at := getattr(row, f"{side}_approved_at")) is not None
        else None
        for side in ("marketing", "sales")
    }


def publish_draft(
    uow: UnitOfWork, *, definition_id: uuid.UUID, actor: Principal, now: datetime, change_note: str | None = None
) -> LeadDefinitionVersion:
    """Publish a draft both sides approved in its current revision; every lead is then rescored."""
    row = _draft(uow.session, definition_id)
    approvals = approvals_of(row)
    missing = missing_approvals(row.revision, approvals)
    if missing:
        roles = {"marketing": "marketing_ops", "sales": "sales_ops"}
        needed = ", ".join(f"{side} ({roles[side]})" for side in missing)
        raise DefinitionConflict(
            f"publishing needs the approval of revision {row.revision} by {needed}",
            missing_approvals=missing,
            revision=row.revision,
        )
    _make_current(uow, row, actor, now, {s: a for s, a in approvals.items() if a}, change_note=change_note)
    _audit(uow.session, row, "published", actor, now, change_note)
    uow.commit()
    return row


def rollback_to(
    uow: UnitOfWork, *, version: int, actor: Principal, now: datetime, change_note: str | None = None
) -> LeadDefinitionVersion:
    """Re-publish an earlier version, as a new version number with the document and approvals it had."""
    old = version_row(uow.session, version)
    if old.status == "published":
        raise DefinitionConflict(f"version {version} is already the one in force")
    row = LeadDefinitionVersion(
        id=uuid.uuid4(),
        name=old.name,
        status="draft",
        revision=old.revision,
        document=old.document,
        based_on_version=old.version,
        marketing_approved_by=old.marketing_approved_by,
        marketing_approved_revision=old.marketing_approved_revision,
        marketing_approved_at=old.marketing_approved_at,
        sales_approved_by=old.sales_approved_by,
        sales_approved_revision=old.sales_approved_revision,
        sales_approved_at=old.sales_approved_at,
        created_by=actor.subject,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    uow.session.flush()
    approvals = {side: given for side, given in approvals_of(old).items() if given}
    note = change_note or f"rollback to version {version}"
    _make_current(uow, row, actor, now, approvals, rollback=True, change_note=note)
    _audit(uow.session, row, "rolled_back", actor, now, note)
    uow.commit()
    return row


def _make_current(
    uow: UnitOfWork,
    row: LeadDefinitionVersion,
    actor: Principal,
    now: datetime,
    approvals: dict[str, Approval],
    *,
    rollback: bool = False,
    change_note: str | None = None,
) -> None:
    session = uow.session
    previous = repository.published_row(session)
    if previous is not None:
        previous.status = "superseded"
        session.flush()
    row.version = repository.highest_version(session) + 1
    row.status = "published"
    row.published_by = actor.subject
    row.published_at = now
    definition = parse_definition(row.document)
    data = published_event(
        definition,
        version=row.version,
        previous_version=previous.version if previous else None,
        published_by=actor.subject,
        approvals=approvals,
        rollback=rollback,
        change_note=change_note,
    )
    uow.emit(new_event(data, key=definition.name, time=now, source=SOURCE, subject=str(row.id)))
    session.add(RescoreJob(id=uuid.uuid4(), definition_version=row.version, status="pending", created_at=now))


def _draft(session: Session, definition_id: uuid.UUID) -> LeadDefinitionVersion:
    row = get_definition(session, definition_id)
    if row.status != "draft":
        raise DefinitionConflict(f"definition {definition_id} is {row.status}: published versions are immutable")
    return row


def _document(definition: LeadDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json", exclude_none=True, exclude={"version"})
