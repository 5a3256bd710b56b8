"""Queries of the sales org: the configuration in force (parsed once per version), versions and the audit."""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.handoff.org.document import RoutingDocument
from services.handoff.org.domain import CurrentOrg, build_org
from services.handoff.org.models import RoutingOrgAudit, RoutingOrgVersion

_CACHED = 16
# Parsed orgs by (version, digest): building calendars and checking rules is the costly part, and a version's
# document never changes. The digest keeps two databases that both have a version 3 (tests, a restore) apart.
_cache: OrderedDict[tuple[int, str], CurrentOrg] = OrderedDict()
_lock = threading.Lock()


def current_org(session: Session) -> CurrentOrg | None:
    """The routing configuration in force (the highest saved version), or None while none is saved."""
    head = session.execute(
        select(RoutingOrgVersion.version, RoutingOrgVersion.digest).order_by(RoutingOrgVersion.version.desc()).limit(1)
    ).first()
    if head is None:
        return None
    key = (head.version, head.digest)
    with _lock:
        if (cached := _cache.get(key)) is not None:
            _cache.move_to_end(key)
            return cached
    document = session.scalar(select(RoutingOrgVersion.document).where(RoutingOrgVersion.version == head.version))
    current = build_org(head.version, RoutingDocument.model_validate(document))
    with _lock:
        _cache[key] = current
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
    return current


def latest_version(session: Session) -> RoutingOrgVersion | None:
    """The row of the version in force, document included, or None."""
    return session.scalar(select(RoutingOrgVersion).order_by(RoutingOrgVersion.version.desc()).limit(1))


def saved_version(session: Session, version: int) -> RoutingOrgVersion | None:
    """One saved version, or None."""
    return session.get(RoutingOrgVersion, version)


def audit_entries(session: Session, *, before: int | None, limit: int) -> list[RoutingOrgAudit]:
    """Audit entries, newest first, older than the entry id `before` when given."""
    query = select(RoutingOrgAudit).order_by(RoutingOrgAudit.id.desc()).limit(limit)
    if before is not None:
        query = query.where(RoutingOrgAudit.id < before)
    return list(session.scalars(query))
