"""Request and response models of the routing API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.handoff.org.document import AbsenceSpec, Domain, RepSpec, RoutingDocument, rep_id
from services.handoff.org.models import RoutingOrgAudit


class RoutingOut(BaseModel):
    """The routing configuration in force, with who saved it and what changed then."""

    version: int
    saved_by: str
    saved_at: datetime
    summary: str = Field(description="What this version changed from the previous one.")
    document: RoutingDocument


class SaveOut(BaseModel):
    """The version in force after a save; `changed` false when the document was the same and nothing was saved."""

    version: int
    changed: bool
    changes: list[str] = Field(description="One readable line per change, as the audit keeps them.")
    summary: str


class ProblemItem(BaseModel):
    """One problem of a document: the dotted path of the field, and a message naming the rule or rep."""

    field: str
    message: str


class ValidationOut(BaseModel):
    """Whether a document would be saved, its problems, and what it would change against the version in force."""

    valid: bool
    errors: list[ProblemItem]
    against_version: int | None
    changes: list[str]


class RepOut(BaseModel):
    """A rep as the configuration in force has them."""

    id: uuid.UUID
    email: str
    name: str
    team: str
    role: Literal["rep", "manager"]
    calendar: str
    active: bool
    weight: float
    max_open: int
    max_new_per_day: int
    out_of_office: list[AbsenceSpec]
    owns_accounts: list[Domain]
    manager: str | None = Field(description="The email of the manager of the rep's team.")

    @classmethod
    def of(cls, rep: RepSpec, managers: dict[str, str | None]) -> RepOut:
        """The answer for a rep of the document, given each team's manager."""
        manager = managers.get(rep.team)
        return cls(
            id=rep_id(rep.email),
            **rep.model_dump(exclude={"out_of_office", "owns_accounts"}),
            out_of_office=rep.out_of_office,
            owns_accounts=rep.owns_accounts,
            manager=None if manager == rep.email else manager,
        )


class RepsOut(BaseModel):
    """Every rep of the version in force."""

    version: int
    reps: list[RepOut]


class RepPatch(BaseModel):
    """The everyday edits of one rep; fields left out stay as they are. Each change saves a new version."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    out_of_office: list[AbsenceSpec] | None = Field(default=None, max_length=1_000)
    weight: float | None = Field(default=None, gt=0, le=1_000, allow_inf_nan=False)
    max_open: int | None = Field(default=None, ge=0, le=10_000)
    max_new_per_day: int | None = Field(default=None, ge=0, le=10_000)

    def changes(self) -> dict[str, Any]:
        """The fields given, as JSON values."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)


class RepChangeOut(SaveOut):
    """The version after a rep's change, and the rep as it now is."""

    rep: RepOut


class AuditEntryOut(BaseModel):
    """Who changed the sales org, when, how, and each change."""

    id: int
    version: int
    actor: str
    role: str
    action: str
    at: datetime
    changes: list[str]

    @classmethod
    def of(cls, row: RoutingOrgAudit) -> AuditEntryOut:
        """The answer for an audit row."""
        return cls(
            id=row.id,
            version=row.version,
            actor=row.actor,
            role=row.role,
            action=row.action,
            at=row.at,
            changes=row.changes,
        )


class AuditPage(BaseModel):
    """Audit entries, newest first; `next_cursor` (an entry id) fetches the older ones."""

    entries: list[AuditEntryOut]
    next_cursor: int | None
