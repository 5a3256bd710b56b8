"""The step and recycle timers of nurture: each fires in the scheduler's transaction with its effect (the action
in the outbox, the history row, the next timer), so a scheduler killed mid-run sends no action twice."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from eventlog.unit_of_work import UnitOfWork
from events.catalog import NurtureActionRequested
from events.catalog.common import ContactIdentity
from events.catalog.nurture import NurtureAction
from events.registry import new_event
from services.nurture.contacts import repository as contacts
from services.nurture.enrollment import handlers as enrollment
from services.nurture.enrollment import repository
from services.nurture.enrollment.book import TrackBook
from services.nurture.enrollment.models import ACTIVE, NurtureEnrollment, NurtureStepRun
from services.nurture.steps import domain
from services.nurture.tracks.compiled import CompiledStep, CompiledTrack
from timers.schedule import Due, schedule, schedule_many
from timers.scheduler import Timer, TimerHandler

# The action id is derived from the enrollment and the step's send count: a second send of one step could
# not be written (the id is unique in the history), whatever happens to the timer.
ACTIONS = uuid.UUID("6f1d7c1e-4c0b-4d59-9d1a-6b1e2f6a9c11")


class StepDue:
    """The handler of `step_due` timers over `book`: the timers fired together are read in a few queries (their
    enrollments, contacts, recent sends and engagement), decided one by one, and their next timers set at once."""

    def __init__(self, book: TrackBook) -> None:
        self._book = book

    def __call__(self, timer: Timer, uow: UnitOfWork) -> None:
        """Fire one step."""
        self.many([timer], uow)

    def many(self, timers: Sequence[Timer], uow: UnitOfWork) -> None:
        """Fire the steps of `timers`, in due order."""
        fire_steps(uow, self._book, timers)


def step_due(book: TrackBook) -> StepDue:
    """The handler of `step_due` timers over `book`."""
    return StepDue(book)


def recycle_due(book: TrackBook) -> TimerHandler:
    """The handler of `recycle_due` timers: the recycle delay is over, the lead may enter nurture again."""

    def handle(timer: Timer, uow: UnitOfWork) -> None:
        payload = timer.payload
        contact = contacts.by_id(uow.session, uuid.UUID(payload["contact_id"]))
        if contact is None:
            return
        handoff = payload.get("handoff_id")
        entry = enrollment.consider(
            uow,
            book,
            contact,
            now=timer.due_at,
            recycle_reason=payload["reason_code"],
            named=payload.get("track_id"),
            handoff_id=uuid.UUID(handoff) if handoff else None,
        )
        if entry.retry_at is not None:  # the track is cooling down for this lead: ask again when it reopens
            schedule(uow, owner=timer.owner, kind=timer.kind, key=timer.key, due_at=entry.retry_at, payload=payload)

    return handle


def fire_steps(uow: UnitOfWork, book: TrackBook, timers: Sequence[Timer]) -> None:
    """Enrollments' steps came due: decide each (consent, skip, caps, quiet hours, branch), record, send, move on."""
    session = uow.session
    rows = repository.lock_many(session, {uuid.UUID(timer.payload["enrollment_id"]) for timer in timers})
    live = [row for row in rows.values() if row.status == ACTIVE and row.step is not None]
    # Ended meanwhile: its timer was cancelled in the same transaction, or this one is stale.
    if not live:
        return
    settings = book.settings(session)
    versions = {(row.track_key, row.track_version) for row in live}
    tracks = {(key, version): book.version(session, key, version) for key, version in versions}
    people = contacts.by_ids(session, {row.contact_id for row in live})
    now = max(timer.fired_at for timer in timers)
    since = repository.window_start(now, [cap.window for cap in settings.caps.values()])
    sent = repository.sends(session, people.keys(), since=since, until=now, channels=settings.caps.keys())
    readers = {row.contact_id for row in live if _reads_engagement(tracks[(row.track_key, row.track_version)])}
    engaged = repository.engaged_contents(session, readers)
    next_timers: list[Due] = []
    for timer in timers:
        row = rows.get(uuid.UUID(timer.payload["enrollment_id"]))
        if row is None or row.status != ACTIVE or row.step is None:
            continue
        track, contact = tracks[(row.track_key, row.track_version)], people.get(row.contact_id)
        if track is None or contact is None:
            raise LookupError(f"enrollment {row.id}: track {row.track_key} v{row.track_version} or contact is gone")
        fired = domain.fire(
            track,
            settings,
            position=domain.Position(row.step, row.phase, row.next_due_at),
            lead=contacts.profile(contact, engaged_content=engaged.get(row.contact_id, ())),
            now=timer.fired_at,
            sends=sent.get(row.contact_id, {}),
        )
        _record(uow, row, fired, contact.email, now=timer.fired_at, due_at=timer.due_at)
        if fired.exit_reason is not None:
            enrollment.end(uow, row, fired.exit_reason, now=timer.fired_at)
        elif (placed := enrollment.place(row, fired.position)) is not None:
            key, due_at, payload = placed
            next_timers.append(Due(enrollment.OWNER, enrollment.STEP_DUE, key, due_at, payload))
    schedule_many(uow, next_timers)


def _record(
    uow: UnitOfWork, row: NurtureEnrollment, fired: domain.Fired, email: str | None, *, now: datetime, due_at: datetime
) -> None:
    """The step history of a fired step, and its action requested when it was sent."""
    for run in fired.runs:
        action_id = None
        if run.outcome == "sent":
            row.steps_sent += 1
            row.last_step = run.step.number
            action_id = uuid.uuid5(ACTIONS, f"{row.id}:{row.steps_sent}")
            _request(uow, row, run.step, action_id, email, now)
        uow.session.add(
            NurtureStepRun(
                enrollment_id=row.id,
                contact_id=row.contact_id,
                step_id=run.step.id,
                step=run.step.number,
                outcome=run.outcome,
                channel=run.step.action.channel if run.outcome in ("sent", "deferred") else None,
                content_id=run.step.action.content_id if run.outcome == "sent" else None,
                action_id=action_id,
                due_at=due_at,
                at=now,
                deferred_until=run.deferred_until,
                detail=run.detail,
            )
        )


def _reads_engagement(track: CompiledTrack | None) -> bool:
    if track is None:
        return False
    return any(step.skip_if is not None and step.skip_if.engaged_with is not None for step in track.steps)


def _request(
    uow: UnitOfWork, row: NurtureEnrollment, step: CompiledStep, action_id: uuid.UUID, email: str | None, now: datetime
) -> None:
    """nurture.action.requested, its id the action id (the idempotency key for marketing automation)."""
    action = step.action
    uow.emit(
        new_event(
            NurtureActionRequested(
                enrollment_id=row.id,
                lead_id=row.contact_id,
                contact_id=row.contact_id,
                track_id=row.track_key,
                track_version=row.track_version,
                action_id=action_id,
                step=step.number,
                step_id=step.id,
                contact=ContactIdentity(email=email),
                action=NurtureAction(
                    channel=action.channel,
                    content_id=action.content_id,
                    content_title=action.content_title,
                    content_url=action.content_url,
                    template_id=action.template_id,
                    message=action.message,
                ),
            ),
            key=row.account_key,
            time=now,
            source="nurture",
            subject=str(row.contact_id),
            event_id=action_id,
        )
    )
