"""Enrollment and exits: load the contact and its enrollment, decide (pure), save, set or cancel the step timer,
emit; inside the caller's unit of work (the consumer's or the scheduler's transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventlog.unit_of_work import UnitOfWork
from events.catalog import NurtureEnrolled, NurtureExited
from events.registry import new_event
from services.nurture.contacts import repository as contacts
from services.nurture.contacts.domain import may_contact
from services.nurture.contacts.models import NurtureContact
from services.nurture.enrollment.book import TrackBook
from services.nurture.enrollment.ledger import Ledger
from services.nurture.enrollment.models import ACTIVE, EXITED, NurtureEnrollment
from services.nurture.steps import domain as steps
from services.nurture.tracks.entry import Entry, PastEnrollment, choose_track, exit_reason
from services.nurture.tracks.timing import contact_zone

OWNER = "nurture"
STEP_DUE = "step_due"
RECYCLE_DUE = "recycle_due"
SOURCE = "nurture"


def step_key(enrollment_id: uuid.UUID) -> str:
    """The key of an enrollment's one step timer (moved from step to step)."""
    return f"step:{enrollment_id}"


def recycle_key(contact_id: uuid.UUID) -> str:
    """The key of a recycled lead's timer: it enters nurture when the recycle delay is over."""
    return f"recycle:{contact_id}"


def consider(
    uow: UnitOfWork,
    book: TrackBook,
    contact: NurtureContact,
    *,
    now: datetime,
    recycle_reason: str | None = None,
    named: str | None = None,
    handoff_id: uuid.UUID | None = None,
    ledger: Ledger | None = None,
) -> Entry:
    """Enroll the contact in the track it meets now, if any; the decision (no track: why, and when to ask again)."""
    session = uow.session
    ledger = ledger or Ledger(uow)
    lead = contacts.profile(contact, recycle_reason=recycle_reason)
    refused = may_contact(lead)
    if refused is not None:
        return Entry(None, refused)
    current = ledger.active(contact.contact_id)
    history = [PastEnrollment(current.track_key, active=True)] if current else ledger.past(contact.contact_id)
    entry = choose_track(book.active(session), lead, history, now, preferred=named)
    track = entry.track
    if track is None:
        return entry
    position = steps.first(track, enrolled_at=now, zone=contact_zone(lead.time_zone, book.settings(session)))
    enrollment = NurtureEnrollment(
        id=uuid.uuid4(),
        contact_id=contact.contact_id,
        account_key=contact.account_key,
        track_key=track.key,
        track_version=track.version,
        entry_reason=entry.reason,
        handoff_id=handoff_id,
        status=ACTIVE,
        steps_sent=0,
        last_step=0,
        enrolled_at=now,
    )
    ledger.enrolled(enrollment)
    move(uow, enrollment, position, ledger=ledger)
    uow.emit(
        new_event(
            NurtureEnrolled(
                enrollment_id=enrollment.id,
                lead_id=contact.contact_id,
                contact_id=contact.contact_id,
                track_id=track.key,
                track_version=track.version,
                entry_reason=enrollment.entry_reason,
                total_steps=len(track.steps),
                handoff_id=handoff_id,
            ),
            key=contact.account_key,
            time=now,
            source=SOURCE,
            subject=str(contact.contact_id),
        )
    )
    return entry


def move(
    uow: UnitOfWork, enrollment: NurtureEnrollment, position: steps.Position, *, ledger: Ledger | None = None
) -> None:
    """Put the enrollment at `position` and its step timer at the position's due time."""
    timer = place(enrollment, position)
    if timer is not None:
        key, due_at, payload = timer
        (ledger or Ledger(uow)).schedule(OWNER, STEP_DUE, key, due_at, payload)


def place(enrollment: NurtureEnrollment, position: steps.Position) -> tuple[str, datetime, dict[str, Any]] | None:
    """Put the enrollment at `position`; its step timer (key, due time, payload) for the caller to set, if any."""
    enrollment.step, enrollment.phase, enrollment.next_due_at = position.step, position.phase, position.due_at
    if position.step is None or position.due_at is None:
        return None
    payload = {"enrollment_id": str(enrollment.id), "step": position.step, "phase": position.phase}
    return step_key(enrollment.id), position.due_at, payload


def leave(
    uow: UnitOfWork,
    book: TrackBook,
    contact_id: uuid.UUID,
    reason: str,
    *,
    now: datetime,
    force: bool = False,
    ledger: Ledger | None = None,
) -> NurtureEnrollment | None:
    """The contact's active enrollment ends for `reason`, if its track exits on it (or `force`)."""
    ledger = ledger or Ledger(uow)
    enrollment = ledger.active(contact_id)
    if enrollment is None:
        return None
    track = book.version(uow.session, enrollment.track_key, enrollment.track_version)
    if not force and track is not None and exit_reason(track, reason) is None:
        return None
    end(uow, enrollment, reason, now=now, ledger=ledger)
    return enrollment


def end(
    uow: UnitOfWork, enrollment: NurtureEnrollment, reason: str, *, now: datetime, ledger: Ledger | None = None
) -> None:
    """End an enrollment for `reason`: its timer cancelled, nurture.exited emitted."""
    ledger = ledger or Ledger(uow)
    enrollment.status, enrollment.exit_reason, enrollment.exited_at = EXITED, reason, now
    enrollment.step = enrollment.phase = enrollment.next_due_at = None
    ledger.ended(enrollment)
    ledger.cancel(OWNER, step_key(enrollment.id))
    uow.emit(
        new_event(
            NurtureExited(
                enrollment_id=enrollment.id,
                lead_id=enrollment.contact_id,
                contact_id=enrollment.contact_id,
                track_id=enrollment.track_key,
                track_version=enrollment.track_version,
                reason=reason,
                last_step=enrollment.last_step,
            ),
            key=enrollment.account_key,
            time=now,
            source=SOURCE,
            subject=str(enrollment.contact_id),
        )
    )
