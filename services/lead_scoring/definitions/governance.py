"""Governance of the lead definition, as pure rules: approvals, what may be published, what changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.catalog.common import Recycle
from events.catalog.definitions import Approval as ApprovalData
from events.catalog.definitions import Approvals, BusinessHours, DefinitionPublished, RejectionReason, Sla
from services.lead_scoring.definitions.document import LeadDefinition

# Which side of the agreement a role speaks for.
SIDE_OF_ROLE = {"marketing_ops": "marketing", "sales_ops": "sales"}
SIDES = ("marketing", "sales")


@dataclass(frozen=True)
class Approval:
    """One side's approval of one revision of a draft."""

    by: str
    revision: int
    at: datetime


def missing_approvals(revision: int, approvals: dict[str, Approval | None]) -> list[str]:
    """The sides whose approval of exactly `revision` is missing (an approval of an older revision does not count)."""
    return [side for side in SIDES if (given := approvals.get(side)) is None or given.revision != revision]


def diff_documents(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Every leaf that differs between two definition documents, as `{path, change, old, new}`."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new)):
            child = f"{path}.{key}" if path else str(key)
            if key not in new:
                changes.append({"path": child, "change": "removed", "old": old[key], "new": None})
            elif key not in old:
                changes.append({"path": child, "change": "added", "old": None, "new": new[key]})
            else:
                changes.extend(diff_documents(old[key], new[key], child))
        return changes
    if isinstance(old, list) and isinstance(new, list) and _keyed_by_id(old) and _keyed_by_id(new):
        # Rules are lists with ids: compare them by id, so inserting a rule does not "change" every later one.
        return diff_documents({item["id"]: item for item in old}, {item["id"]: item for item in new}, path)
    if old != new:
        return [{"path": path, "change": "changed", "old": old, "new": new}]
    return []


def _keyed_by_id(items: list[Any]) -> bool:
    return all(isinstance(item, dict) and "id" in item for item in items)


def published_event(
    definition: LeadDefinition,
    *,
    version: int,
    previous_version: int | None,
    published_by: str,
    approvals: dict[str, Approval],
    rollback: bool = False,
    change_note: str | None = None,
) -> DefinitionPublished:
    """The definition.published event of a version: the agreement as the other services need it."""
    hours = definition.sla.business_hours
    return DefinitionPublished(
        name=definition.name,
        version=version,
        previous_version=previous_version,
        rollback=rollback,
        published_by=published_by,
        approvals=Approvals(
            **{side: ApprovalData(approved_by=given.by, approved_at=given.at) for side, given in approvals.items()}
        ),
        change_note=change_note,
        sla=Sla(
            accept_within_business_hours=definition.sla.accept_within_business_hours,
            on_breach=definition.sla.on_breach,
            business_hours=BusinessHours(
                timezone=hours.timezone, days=hours.days, start=f"{hours.start:%H:%M}", end=f"{hours.end:%H:%M}"
            ),
        ),
        rejection_reasons=[
            RejectionReason(
                code=reason.code,
                label=reason.label,
                recycle=Recycle(**definition.recycle[reason.code].model_dump())
                if reason.code in definition.recycle
                else Recycle(action="close"),
            )
            for reason in definition.rejection_reasons
        ],
        document=definition.model_dump(mode="json", exclude_none=True),
    )
