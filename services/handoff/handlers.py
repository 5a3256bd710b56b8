"""The reps' commands on a handoff: load (only what the caller sees), decide, save, stop or start the clock, emit,
and keep the answer for a retried request; each in one transaction.

A refused command raises: `NotFound` (404), `ActionNotAllowed` (409, naming the state and the allowed actions),
`InvalidCommand` (422, naming the field), `StaleVersion` (412: If-Match names an older version), `ChangedMeanwhile`
(409: another change committed between load and save).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from eventlog.unit_of_work import UnitOfWork
from services.handoff import repository
from services.handoff.access import Viewer
from services.handoff.assignment import Routing, give
from services.handoff.commands import Accept, Close, Command, Convert, Reject
from services.handoff.domain import InvalidCommand, decide
from services.handoff.idempotency import Replay, keep
from services.handoff.models import HandoffRecord
from services.handoff.org.repository import current_org
from services.handoff.outbox import emit
from services.handoff.projection import repository as projected
from services.handoff.sla import timers
from services.handoff.sla.domain import time_to_accept

Answer = tuple[int, dict[str, Any], dict[str, str]]  # status, body, headers


class NotFound(LookupError):  # noqa: N818 - an outcome the API answers with 404
    """No handoff of that id that the caller may see."""


class StaleVersion(Exception):  # noqa: N818 - an outcome the API answers with 412
    """If-Match names a version older than the handoff's."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"If-Match names version {expected}, the handoff is at version {current}: reload it")
        self.current = current


class ChangedMeanwhile(Exception):  # noqa: N818 - an outcome the API answers with 409
    """Another change to the handoff committed between this one's load and save."""


def load(uow: UnitOfWork, handoff_id: uuid.UUID, viewer: Viewer, if_match: int | None = None) -> HandoffRecord:
    """The handoff, locked for the transaction, if the caller may see it and it is at the version they name."""
    row = repository.get(uow.session, handoff_id, for_update=True)
    if row is None or not viewer.sees(row):
        raise NotFound(f"no handoff {handoff_id}")
    if if_match is not None and if_match != row.version:
        raise StaleVersion(if_match, row.version)
    return row


def accept(uow: UnitOfWork, row: HandoffRecord, note: str | None, now: datetime) -> None:
    """The rep accepts: the clock stops, the time to accept is kept in business hours on the rep's calendar."""
    transition = decide(repository.state_of(row), Accept(note), now)
    hours = _business_hours(uow, row, now)
    repository.apply_state(row, transition.state)
    row.time_to_accept_hours, row.updated_at = hours, now
    timers.stop_clock(uow, row.id)
    for fact in transition.events:
        emit(uow, row, fact, time_to_accept_hours=hours)


def reject(uow: UnitOfWork, row: HandoffRecord, reason_code: str, note: str | None, now: datetime) -> None:
    """The rep sends it back with an agreed reason: the clock stops, marketing hears what to do with the lead."""
    terms = projected.terms(uow.session, row.definition_version)
    transition = decide(repository.state_of(row), Reject(reason_code, terms.allowed_codes, note), now)
    _save(uow, row, transition.state, now)
    timers.stop_clock(uow, row.id)
    for fact in transition.events:
        emit(uow, row, fact, recycle=terms.recycle(reason_code))


def convert(
    uow: UnitOfWork,
    row: HandoffRecord,
    *,
    name: str,
    amount: Decimal | None,
    currency: str | None,
    expected_close_date: date | None,
    now: datetime,
) -> None:
    """The accepted handoff becomes an opportunity."""
    command = Convert(uuid.uuid4(), name, amount, currency, expected_close_date)
    _simple(uow, row, command, now)


def close(
    uow: UnitOfWork,
    row: HandoffRecord,
    *,
    outcome: Literal["won", "lost"],
    lost_reason: str | None,
    amount: Decimal | None,
    currency: str | None,
    note: str | None,
    now: datetime,
) -> None:
    """The opportunity is won or lost."""
    _simple(uow, row, Close(outcome, lost_reason, amount, currency, note), now)


def reassign(uow: UnitOfWork, row: HandoffRecord, viewer: Viewer, rep_id: uuid.UUID, now: datetime) -> None:
    """A manager gives the handoff to a rep of their team (sales ops: to anyone); a new SLA clock starts."""
    routing = Routing.begin(uow.session, now)
    if routing.current is None or rep_id not in routing.current.org.by_id:
        raise InvalidCommand("rep", f"no rep {rep_id} in the sales org")
    if not viewer.may_assign_to(rep_id):
        raise InvalidCommand("rep", f"rep {rep_id} is not in your team")
    if not routing.current.org.by_id[rep_id].active:
        raise InvalidCommand("rep", f"rep {rep_id} is inactive")
    terms = projected.terms(uow.session, row.definition_version)
    give(uow, routing, row, terms, now, trigger="manager", pick=rep_id, by=viewer.subject)
    routing.finish(uow)


def run(uow: UnitOfWork, action: Callable[[], None], shape: Callable[[], Answer], replay: Replay | None) -> Answer:
    """Run a command, keep its answer under the Idempotency-Key, and commit both; a concurrent change loses."""
    try:
        action()
        uow.session.flush()
        answer = shape()
        if replay is not None:
            keep(uow.session, replay, answer)
        uow.commit()
    except StaleDataError:
        uow.rollback()
        raise ChangedMeanwhile("the handoff changed while this request was handled: reload it and retry") from None
    except IntegrityError:
        uow.rollback()
        if replay is not None and (first := replay.first(uow.session)) is not None:
            return first  # the same key, committed by a concurrent request a moment ago
        raise
    return answer


def _simple(uow: UnitOfWork, row: HandoffRecord, command: Command, now: datetime) -> None:
    transition = decide(repository.state_of(row), command, now)
    _save(uow, row, transition.state, now)
    for fact in transition.events:
        emit(uow, row, fact)


def _save(uow: UnitOfWork, row: HandoffRecord, state: Any, now: datetime) -> None:
    repository.apply_state(row, state)
    row.updated_at = now


def _business_hours(uow: UnitOfWork, row: HandoffRecord, now: datetime) -> float | None:
    """Business hours from assignment to `now` on the rep's calendar; None when the rep's calendar is unknown."""
    current = current_org(uow.session)
    rep = current.org.by_id.get(row.rep_id) if current and row.rep_id else None
    if current is None or rep is None or row.assigned_at is None:
        return None
    spent = time_to_accept(row.assigned_at, max(now, row.assigned_at), current.org.calendars[rep.calendar])
    return round(spent.total_seconds() / 3600, 4)
