"""Where enrollment reads a contact's enrollments and sets its step timers: one query at a time (`Ledger`), or
from what a consumer batch loaded once and with the timers written at its end (`BatchLedger`)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select

from eventlog.unit_of_work import UnitOfWork
from services.nurture.enrollment import repository
from services.nurture.enrollment.models import ACTIVE, EXITED, NurtureEnrollment
from services.nurture.tracks.entry import PastEnrollment
from timers.schedule import Due, cancel, cancel_many, schedule, schedule_many


class Ledger:
    """A contact's enrollments read when asked, timers set at once: for one event or one timer."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def active(self, contact_id: uuid.UUID) -> NurtureEnrollment | None:
        """The contact's active enrollment, if any, locked for the transaction."""
        return repository.active(self.uow.session, contact_id)

    def past(self, contact_id: uuid.UUID) -> list[PastEnrollment]:
        """The contact's ended enrollments."""
        return repository.past(self.uow.session, contact_id)

    def enrolled(self, enrollment: NurtureEnrollment) -> None:
        """A new enrollment, to be saved."""
        self.uow.session.add(enrollment)

    def ended(self, enrollment: NurtureEnrollment) -> None:
        """An enrollment just ended (its row already says so)."""

    def schedule(self, owner: str, kind: str, key: str, due_at: datetime, payload: dict[str, Any]) -> None:
        """Set (or move) a timer."""
        schedule(self.uow, owner=owner, kind=kind, key=key, due_at=due_at, payload=payload)

    def cancel(self, owner: str, key: str) -> None:
        """Remove a timer."""
        cancel(self.uow, owner=owner, key=key)


class BatchLedger(Ledger):
    """The enrollments of a batch's contacts loaded in two queries, kept up to date as the batch changes them;
    timers kept in order and written by `finish` (a key set then cancelled in one batch: the last word holds)."""

    def __init__(self, uow: UnitOfWork, contact_ids: Collection[uuid.UUID]) -> None:
        super().__init__(uow)
        ids = sorted(set(contact_ids))
        self._active: dict[uuid.UUID, NurtureEnrollment | None] = dict.fromkeys(ids)
        self._past: dict[uuid.UUID, list[PastEnrollment]] = {contact_id: [] for contact_id in ids}
        self._timers: dict[tuple[str, str], Due | None] = {}
        if not ids:
            return
        session = uow.session
        # Locked in id order, as repository.lock_many does: two transactions never wait on each other in a circle.
        query = (
            select(NurtureEnrollment)
            .where(NurtureEnrollment.contact_id.in_(ids), NurtureEnrollment.status == ACTIVE)
            .order_by(NurtureEnrollment.id)
            .with_for_update()
        )
        for row in session.scalars(query):
            self._active[row.contact_id] = row
        ended = select(NurtureEnrollment.contact_id, NurtureEnrollment.track_key, NurtureEnrollment.exited_at).where(
            NurtureEnrollment.contact_id.in_(ids), NurtureEnrollment.status == EXITED
        )
        for contact_id, key, at in session.execute(ended):
            self._past[contact_id].append(PastEnrollment(key, active=False, exited_at=at))

    def active(self, contact_id: uuid.UUID) -> NurtureEnrollment | None:
        """The contact's active enrollment, from the batch's load (a contact it did not load: queried)."""
        if contact_id not in self._active:
            return super().active(contact_id)
        return self._active[contact_id]

    def past(self, contact_id: uuid.UUID) -> list[PastEnrollment]:
        """The contact's ended enrollments, from the batch's load (a contact it did not load: queried)."""
        if contact_id not in self._past:
            return super().past(contact_id)
        return list(self._past[contact_id])

    def enrolled(self, enrollment: NurtureEnrollment) -> None:
        """A new enrollment: saved with the batch, and the contact's active one from now on."""
        super().enrolled(enrollment)
        self._active[enrollment.contact_id] = enrollment

    def ended(self, enrollment: NurtureEnrollment) -> None:
        """An enrollment ended: no longer active, now part of the contact's history."""
        contact_id = enrollment.contact_id
        if contact_id in self._active and self._active[contact_id] is enrollment:
            self._active[contact_id] = None
        if contact_id in self._past:
            self._past[contact_id].append(
                PastEnrollment(enrollment.track_key, active=False, exited_at=enrollment.exited_at)
            )

    def schedule(self, owner: str, kind: str, key: str, due_at: datetime, payload: dict[str, Any]) -> None:
        """Set (or move) a timer when the batch finishes."""
        self._timers.pop((owner, key), None)  # re-inserted last: the batch's order of words is kept
        self._timers[(owner, key)] = Due(owner, kind, key, due_at, payload)

    def cancel(self, owner: str, key: str) -> None:
        """Remove a timer when the batch finishes."""
        self._timers.pop((owner, key), None)
        self._timers[(owner, key)] = None

    def finish(self) -> None:
        """Write the batch's timers: the cancelled in one statement per owner, the set in one."""
        cancelled: dict[str, list[str]] = {}
        for (owner, key), due in self._timers.items():
            if due is None:
                cancelled.setdefault(owner, []).append(key)
        for owner, keys in cancelled.items():
            cancel_many(self.uow, owner=owner, keys=keys)
        schedule_many(self.uow, [due for due in self._timers.values() if due is not None])
        self._timers.clear()
