"""Request and response models of the lead_scoring API."""

from __future__ import annotations

import base64
import json
import math
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

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


class FieldWarningOut(BaseModel):
    """A rule that reads a field path or touch type never seen: valid, but it cannot fire until such data arrives."""

    rule: str = Field(description="The rule, as `fit rule 2 (`fit.size`)`.")
    kind: Literal["path", "touch_type"]
    name: str = Field(description="The path or touch type it reads.")
    suggestions: list[str] = Field(description="The closest known paths or touch types (GET /v1/definitions/fields).")
    message: str


class KnownPathOut(BaseModel):
    """An attribute path a rule can read."""

    path: str
    source: Literal["fixed", "custom"] = Field(
        description="fixed: set by leadflow; custom: a custom field seen, read at contact.<name> "
        "(at contact.custom.<name> when a fixed path has its name)."
    )
    description: str | None


class FieldsOut(BaseModel):
    """What a definition can read: attribute paths and touch types, the fixed ones and those seen in ingested data."""

    paths: list[KnownPathOut]
    touch_types: list[str] = Field(description="The catalog's touch types and those seen.")


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
    open_mqls: str = Field(
        description="What publishing it does to open MQLs no handoff accepted that it no longer qualifies: keep or "
        "return_to_engaged (the document's republication.open_mqls, approved with it)."
    )
    document: dict[str, Any] | None = None
    history: list[AuditOut] = Field(default_factory=list)
    warnings: list[FieldWarningOut] = Field(
        default_factory=list, description="Rules that read a field path or touch type never seen."
    )


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
    mqls_still_qualified: int = Field(description="Open MQLs the new version qualifies too.")
    mqls_kept_accepted: int = Field(description="Open MQLs it no longer qualifies, kept: a handoff accepted them.")
    mqls_kept_by_policy: int = Field(description="Open MQLs it no longer qualifies, kept: the version says keep.")
    mqls_returned_to_engaged: int = Field(description="Open MQLs it no longer qualifies, returned to engaged.")

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
        open_mqls=(row.document.get("republication") or {}).get("open_mqls", "keep"),
        document=row.document if document else None,
        history=[AuditOut.of(entry) for entry in history or []],
    )


Stage = Literal["raw", "engaged", "mql", "disqualified"]
FitGrade = Literal["A", "B", "C", "D"]
SCORE_BOUND = 1e9
"""No score comes near this: a filter beyond it is a mistake, refused before it reaches a query."""
BoundedScore = Annotated[float, Field(ge=-SCORE_BOUND, le=SCORE_BOUND, allow_inf_nan=False)]


class LeadOut(BaseModel):
    """A lead: its stage and scores under the definition in force, and the combined score it is ranked by."""

    lead_id: uuid.UUID
    contact_id: uuid.UUID
    account_id: uuid.UUID | None
    email: str | None
    stage: str
    reason: str | None
    fit_score: float
    fit_grade: str
    engagement_score: float
    combined_score: float = Field(description="The definition's `ranking`: fit and engagement, each times its weight.")
    account_score: float
    definition_version: int
    qualification_cycle: int
    buying_role: str | None
    scored_at: str
    mql_at: str | None
    mql_version: int | None = Field(description="The definition version in force when it last qualified.")


class LeadPage(BaseModel):
    """A page of leads; `next` is the cursor of the following page, absent on the last one."""

    items: list[LeadOut]
    next: str | None = Field(description="Pass as `cursor` (with the same sort) for the next page.")


class TouchedOut(BaseModel):
    """Who an accepted ingest item touched: the lead id is the contact id."""

    contact_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    why_none: str | None = Field(default=None, description="Why no id is known yet, when there is none.")


class AccountContactOut(BaseModel):
    """A contact of an account, with its lead's stage and scores (none before a definition is published)."""

    id: uuid.UUID
    email: str | None
    buying_role: str | None
    stage: str | None
    fit_score: float | None
    fit_grade: str | None
    engagement_score: float | None
    combined_score: float | None


class CommitteeOut(BaseModel):
    """The buying committee under the definition in force: roles engaged contacts hold, and roles still missing."""

    roles_present: list[str]
    roles_missing: list[str]
    engaged_contacts: list[uuid.UUID]
    min_engaged_contacts: int
    met: bool


class AccountOut(BaseModel):
    """An account with its contacts, its roll-up score and its buying committee."""

    id: uuid.UUID
    name: str | None
    domain: str | None
    external_id: str | None
    attributes: dict[str, Any]
    roll_up_score: float | None = Field(description="How the definition in force rolls contacts up; none before one.")
    definition_version: int | None
    committee: CommitteeOut | None
    contacts: list[AccountContactOut]


def encode_cursor(sort: str, key: float | datetime, lead_id: uuid.UUID) -> str:
    """An opaque cursor: the sort, the sort key and the id of the last lead of a page."""
    value = key.isoformat() if isinstance(key, datetime) else repr(float(key))
    raw = json.dumps({"sort": sort, "key": value, "id": str(lead_id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[float | datetime, uuid.UUID]:
    """The sort key and lead id a cursor holds; ValueError saying why it is not one this list gave for `sort`."""
    unknown = "is not a cursor this list gave (pass `next` from the previous page as it is)"
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        given, value, lead_id = data["sort"], data["key"], uuid.UUID(data["id"])
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
        raise ValueError(unknown) from error
    if given != sort:
        raise ValueError(f"was given for sort={given}, not sort={sort}")
    try:
        key: float | datetime = _cursor_time(value) if sort == "updated" else float(value)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValueError(unknown) from error
    if isinstance(key, float) and not math.isfinite(key):
        raise ValueError(unknown)
    return key, lead_id


def _cursor_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a cursor's time is timezone-aware")
    return _sane_time(parsed)
