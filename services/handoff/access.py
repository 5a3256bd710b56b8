"""Who sees which handoffs: a rep their own, a manager their team's (and the unrouted queue, and what was
escalated to them), sales ops and admins all. A handoff the caller may not see does not exist for them (404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.orm import Session

from auth.tokens import Principal
from services.handoff.models import HandoffRecord
from services.handoff.org.domain import CurrentOrg
from services.handoff.org.repository import current_org

EVERYTHING = ("sales_ops", "admin")


@dataclass(frozen=True)
class Viewer:
    """The caller as the handoff API sees them: their role, their rep id and the reps of their team."""

    subject: str
    role: str
    rep_id: uuid.UUID | None
    team_reps: frozenset[uuid.UUID]

    @property
    def sees_all(self) -> bool:
        """Sales ops and admins see every handoff."""
        return self.role in EVERYTHING

    def sees(self, row: HandoffRecord) -> bool:
        """Whether the caller may see (and so act on) the handoff."""
        if self.sees_all:
            return True
        if self.role == "manager":
            return row.rep_id is None or row.rep_id in self.team_reps or row.escalated_to == self.rep_id
        return self.rep_id is not None and row.rep_id == self.rep_id

    def may_assign_to(self, rep_id: uuid.UUID) -> bool:
        """Whether the caller may give a handoff to this rep: a manager within their team."""
        return self.sees_all or (self.role == "manager" and rep_id in self.team_reps)

    def visible(self) -> ColumnElement[bool]:
        """The queue's filter of what the caller sees."""
        if self.sees_all:
            return true()
        if self.role == "manager":
            return or_(
                HandoffRecord.rep_id.is_(None),
                HandoffRecord.rep_id.in_(self.team_reps),
                HandoffRecord.escalated_to == self.rep_id,
            )
        return HandoffRecord.rep_id == self.rep_id if self.rep_id is not None else false()


def viewer(session: Session, user: Principal, current: CurrentOrg | None = None) -> Viewer:
    """The caller's view: the token's subject is their email in the sales org."""
    current = current or current_org(session)
    profile = current.rep_by_email(user.subject) if current else None
    team: frozenset[uuid.UUID] = frozenset()
    if current is not None and profile is not None and user.role == "manager":
        team = frozenset(rep.id for rep in current.reps.values() if rep.team == profile.team)
    return Viewer(user.subject, user.role, profile.id if profile else None, team)
