"""Request and response models of the lead_scoring API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from services.lead_scoring.models import DefinitionAudit, LeadDefinitionVersion, RescoreJob

INT_MAX = 2**31 - 1
"""The largest integer an INTEGER column holds on PostgreSQL: bigger numbers are refused before they reach one."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _sane_time(value: datetime) -> datetime:
    # Near year 1 or 9999 an offset pushes the time out of what Python and the databases can compare in UTC.
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"must be from {EARLIEST.date()} and before {LATEST.date()} (got {value.isoformat()})")
    return value


SaneTime = Annotated[AwareDatetime, AfterValidator(_sane_time)]
"""A timezone-aware time from 1970 to 2200, UTC-convertible: what the request models take."""


class DraftIn(BaseModel):
    """A lead definition document (the JSON form of the YAML in config/lead_definition.example.yaml)."""

    document: dict[str, Any] = Field(description="The definition; see contracts/lead_definition.schema.json.")


class ApprovalIn(BaseModel):
    """An approval names the revision the approver reviewed."""

    revision: int = Field(
        ge=1, le=INT_MAX, description="The draft revision you reviewed; a later edit voids the approval."
    )


class PublishIn(BaseModel):
    """Why this version is published."""

    change_note: str | None = Field(default=None, max_length=2000)


class RollbackIn(BaseModel):
    """Which version to put back in force."""

    version: int = Field(ge=1, le=INT_MAX, description="A published version number.")
    change_note: str | None = Field(default=None, max_length=2000)


class ApprovalOut(BaseModel):
    """One side's approval."""

    by: str
    revision: int
    at: datetime


class AuditOut(BaseModel):
    """One entry of a definition's history."""

    action: str
    actor: str
    role: str
    revision: int
    at: datetime
    detail: str | None

    @classmethod
    def of(cls, row: DefinitionAudit) -> AuditOut:
        """From the table row."""
        return cls(
            action=row.action, actor=row.actor, role=row.role, revision=row.revision, at=row.at, detail=row.detail
        )


class DefinitionOut(BaseModel):
    """A definition: a draft being agreed, or a published version."""

    id: uuid.UUID
    name: str
    status: str
    revision: int
    version: int | None
    based_on_version: int | None
    approvals: dict[str, ApprovalOut | None]
    missing_approvals: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    published_by: str | None
    published_at: datetime | None
    document: dict[str, Any] | None = None
    history: list[AuditOut] = Field(default_factory=list)


class DiffOut(BaseModel):
    """What a draft changes against the version in force."""

    against_version: int | None
    changes: list[dict[str, Any]]


class RescoreJobOut(BaseModel):
    """Progress of rescoring every lead under a published version."""

    id: uuid.UUID
    definition_version: int
    status: str
    total: int
    done: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: RescoreJob) -> RescoreJobOut:
        """From the table row."""
        return cls.model_validate(job, from_attributes=True)


def definition_out(
    row: LeadDefinitionVersion,
    approvals: dict[str, Any],
    missing: list[str],
    *,
    document: bool = False,
    history: list[DefinitionAudit] | None = None,
) -> DefinitionOut:
    """The API view of a definition row."""
    return DefinitionOut(
        id=row.id,
        name=row.name,
        status=row.status,
        revision=row.revision,
        version=row.version,
        based_on_version=row.based_on_version,
        approvals={
            side: ApprovalOut(by=given.by, revision=given.revision, at=given.at) if given else None
            for side, given in approvals.items()
        },
        missing_approvals=missing,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        published_by=row.published_by,
        published_at=row.published_at,
        document=row.document if document else None,
        history=[AuditOut.of(entry) for entry in history or []],
    )
