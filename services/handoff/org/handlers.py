"""Commands on the sales org: save a whole document, or change one rep; each saves a version and its audit entry."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from eventlog.unit_of_work import UnitOfWork
from services.handoff.org import repository
from services.handoff.org.changes import describe_changes, summary
from services.handoff.org.document import DocumentProblem, RoutingDocument, RoutingDocumentError, parse_document
from services.handoff.org.domain import build_org
from services.handoff.org.models import RoutingOrgAudit, RoutingOrgVersion

Action = Literal["replace", "rep.update"]


class StaleVersion(Exception):  # noqa: N818 - an outcome the API answers with 412
    """The caller's version is not the one in force (someone saved in between)."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"you edited version {expected}, but version {current} is in force: reload and retry")
        self.expected = expected
        self.current = current


class NothingSaved(Exception):  # noqa: N818 - an outcome the API answers with 404
    """No routing configuration is saved yet, or it has no such rep."""


@dataclass(frozen=True)
class Saved:
    """The version in force after a save, and the changes the save made (none: nothing was saved)."""

    version: int
    saved_by: str
    saved_at: datetime
    summary: str
    changes: list[str]

    @classmethod
    def of(cls, row: RoutingOrgVersion, changes: list[str]) -> Saved:
        """The outcome, read from the version row while its session is open."""
        return cls(row.version, row.saved_by, row.saved_at, row.summary, changes)

    @property
    def changed(self) -> bool:
        """Whether the save made a new version."""
        return bool(self.changes)


def digest(document: RoutingDocument) -> str:
    """The sha256 of the document's canonical JSON."""
    text = json.dumps(document.dump(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def save_document(
    uow: UnitOfWork,
    document: RoutingDocument,
    *,
    actor: str,
    role: str,
    now: datetime,
    expected_version: int | None = None,
    action: Action = "replace",
) -> Saved:
    """Save the document as the next version, with an audit entry of what changed; an identical one saves nothing.

    RoutingDocumentError if it does not check; StaleVersion if `expected_version` is not the version in force.
    """
    build_org(0, document)  # refuses a document that cannot route, naming the rule or rep and the field
    latest = repository.latest_version(uow.session)
    current = latest.version if latest else 0
    if expected_version is not None and expected_version != current:
        raise StaleVersion(expected_version, current)
    before = RoutingDocument.model_validate(latest.document) if latest else None
    changes = describe_changes(before, document)
    if latest is not None and not changes:
        return Saved.of(latest, [])
    row = RoutingOrgVersion(
        version=current + 1,
        document=document.dump(),
        digest=digest(document),
        saved_by=actor,
        saved_at=now,
        summary=summary(changes),
    )
    uow.session.add(row)
    uow.session.add(
        RoutingOrgAudit(version=row.version, actor=actor, role=role, action=action, at=now, changes=changes)
    )
    saved = Saved.of(row, changes)
    try:
        uow.commit()
    except IntegrityError:  # another save took this version number first
        uow.rollback()
        raise StaleVersion(current, current + 1) from None
    return saved


def update_rep(
    uow: UnitOfWork,
    email: str,
    changes: dict[str, Any],  # JSON values of RepSpec fields
    *,
    actor: str,
    role: str,
    now: datetime,
    expected_version: int | None = None,
) -> Saved:
    """Change one rep's everyday fields (active, out_of_office, weight, capacity) as a new version."""
    latest = repository.latest_version(uow.session)
    if latest is None:
        raise NothingSaved("no routing configuration is saved yet: import one first (PUT /v1/routing)")
    raw = json.loads(json.dumps(latest.document))  # a deep copy: the row's own document stays as it was
    index = next((i for i, rep in enumerate(raw["reps"]) if rep["email"] == email.casefold()), None)
    if index is None:
        raise NothingSaved(f"no rep {email.casefold()} in routing version {latest.version}")
    raw["reps"][index].update(changes)
    try:
        document = parse_document(raw)
    except RoutingDocumentError as error:
        raise RoutingDocumentError([_as_patch(problem, index) for problem in error.problems]) from None
    return save_document(
        uow, document, actor=actor, role=role, now=now, expected_version=expected_version, action="rep.update"
    )


def _as_patch(problem: DocumentProblem, index: int) -> DocumentProblem:
    """A problem of the patched rep names the field of the PATCH body (`weight`), not its place in the document."""
    prefix = f"reps.{index}."
    return problem.model_copy(update={"field": problem.field.removeprefix(prefix)})
