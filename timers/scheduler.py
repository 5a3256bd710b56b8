"""The scheduler: fires due timers in due order, each in the transaction of its effect, so each fires once."""

from __future__ import annotations

import logging
import threading
from collections import Counter as Tally
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import Counter, Histogram
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from database.queries import among, rows
from eventlog.loop import run_loop
from eventlog.retry import is_transient
from eventlog.unit_of_work import UnitOfWork
from events.envelope import utc_now
from events.registry import HANDLER_ERROR
from timers.models import TimerDeadLetter, TimerRecord

log = logging.getLogger(__name__)

NO_HANDLER = "no_handler"


@dataclass(frozen=True)
class Timer:
    """A timer as its handler sees it. The fact it causes happened at `due_at`; `fired_at` is the real time."""

    id: int
    owner: str
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    created_at: datetime
    fired_at: datetime


# A timer's handler loads, decides, saves and emits through the unit of work; it never commits: the scheduler
# commits its effect with the timer marked fired, or undoes both.
TimerHandler = Callable[[Timer, UnitOfWork], None]


class BatchTimerHandler(Protocol):
    """A timer handler that can also take the timers of its kind fired together at once (`many`), so that it
    reads what they need in a few queries instead of a few per timer; alone (a batch redone one by one after a
    failure), each timer goes through `__call__`."""

    def __call__(self, timer: Timer, uow: UnitOfWork) -> None:
        """Handle one timer."""

    def many(self, timers: Sequence[Timer], uow: UnitOfWork) -> None:
        """Handle timers of one kind fired together, in due order."""


Clock = Callable[[], datetime]

FIRED = Counter("leadflow_timers_fired_total", "Timers fired: their handler's effect committed", ["owner", "kind"])
DEAD_LETTERED = Counter("leadflow_timer_dead_letters_total", "Timers dead-lettered", ["owner", "reason"])
LAG = Histogram(
    "leadflow_timer_lag_seconds",
    "How late timers fire: firing time minus due time",
    ["owner"],
    buckets=(0.1, 0.5, 1, 2, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400),
)
RETRIED = Counter("leadflow_timer_transient_faults_total", "Scheduler steps retried after a transient fault")

_COLUMNS = (
    TimerRecord.id,
    TimerRecord.owner,
    TimerRecord.kind,
    TimerRecord.key,
    TimerRecord.due_at,
    TimerRecord.payload,
    TimerRecord.created_at,
)


class _HandlerFailedError(Exception):
    """A handler raised on the fast path: the batch is redone one timer at a time."""


class Scheduler:
    """Fires the due timers of `owners` (every owner when None) with `handlers`, keyed by (owner, kind).

    A timer of an owner or kind no handler serves is dead-lettered: with `owners` given, only for those owners,
    so that a scheduler serving some services leaves the others' timers to theirs.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        handlers: Mapping[tuple[str, str], TimerHandler],
        clock: Clock = utc_now,
        owners: Collection[str] | None = None,
        batch_size: int = 500,
        idle_s: float = 1.0,
    ) -> None:
        self._uow = uow
        self._handlers = dict(handlers)
        self._clock = clock
        self._owners = sorted(owners) if owners is not None else None
        self._batch_size = batch_size
        self._idle_s = idle_s

    def run(self, stop: threading.Event) -> None:
        """Fire timers until `stop` is set; a full batch is followed at once, a short one by `idle_s` of rest."""
        run_loop(
            "scheduler",
            lambda: 0.0 if self.step() >= self._batch_size else self._idle_s,
            stop,
            on_fault=lambda _: RETRIED.inc(),
        )

    def step(self) -> int:
        """Fire one batch of due timers in one transaction; how many were settled (fired or dead-lettered)."""
        try:
            return self._attempt(isolate=False)
        except _HandlerFailedError:
            return self._attempt(isolate=True)

    def _attempt(self, *, isolate: bool) -> int:
        now = self._clock()
        dead: list[dict[str, Any]] = []
        with self._uow as uow:
            timers = self._claim(uow.session, now)
            handled = []
            for timer in timers:
                handler = self._handlers.get((timer.owner, timer.kind))
                if handler is None:
                    dead.append(_dead_letter(timer, NO_HANDLER, self._no_handler(timer)))
                else:
                    handled.append((timer, handler))
            if isolate:
                dead += self._run_isolated(handled, uow)
            else:
                self._run_fast(handled, uow)
            if dead:
                uow.session.execute(
                    insert(TimerDeadLetter), sorted(dead, key=lambda row: (row["due_at"], row["timer_id"]))
                )
            uow.commit()
        self._count(timers, dead, now)
        return len(timers)

    def _claim(self, session: Session, now: datetime) -> list[Timer]:
        """Lock the next due timers (skipping those another scheduler holds) and mark them fired at `now`."""
        due = select(*_COLUMNS).where(TimerRecord.fired_at.is_(None), TimerRecord.due_at <= now)
        if self._owners is not None:
            due = due.where(among(session, TimerRecord.owner, self._owners))
        due = due.order_by(TimerRecord.due_at, TimerRecord.id).limit(self._batch_size)
        found = rows(session, due.with_for_update(skip_locked=True)).all()
        if not found:
            return []
        ids = [row.id for row in found]
        # Marked before the handlers run: a handler that schedules its own key again re-arms it after this.
        session.connection().execute(
            update(TimerRecord).where(among(session, TimerRecord.id, ids)).values(fired_at=now)
        )
        return [
            Timer(id_, owner, kind, key, due_at, payload, created_at, now)
            for id_, owner, kind, key, due_at, payload, created_at in found
        ]

    def _run_fast(self, handled: Sequence[tuple[Timer, TimerHandler]], uow: UnitOfWork) -> None:
        try:
            for handler, timers in _runs(handled):
                many = getattr(handler, "many", None)
                if many is not None:
                    many(timers, uow)
                else:
                    for timer in timers:
                        handler(timer, uow)
            uow.flush()  # an event the outbox refuses is the handler's failure: it is isolated and dead-lettered
        except Exception as error:
            if is_transient(error):
                raise
            raise _HandlerFailedError from error

    def _run_isolated(self, handled: Sequence[tuple[Timer, TimerHandler]], uow: UnitOfWork) -> list[dict[str, Any]]:
        dead = []
        for timer, handler in handled:
            try:
                with uow.savepoint():
                    handler(timer, uow)
            except Exception as error:
                if is_transient(error):
                    raise
                log.exception("scheduler: %s/%s handler failed on timer %s", timer.owner, timer.kind, timer.key)
                dead.append(_dead_letter(timer, HANDLER_ERROR, f"{type(error).__name__}: {error}"))
        return dead

    def _no_handler(self, timer: Timer) -> str:
        if any(owner == timer.owner for owner, _ in self._handlers):
            return f"owner {timer.owner!r} has no handler for timer kind {timer.kind!r}"
        return f"no handler for owner {timer.owner!r} (timer kind {timer.kind!r})"

    def _count(self, timers: Sequence[Timer], dead: Sequence[dict[str, Any]], now: datetime) -> None:
        dead_ids = {row["timer_id"] for row in dead}
        for (owner, kind), count in Tally((t.owner, t.kind) for t in timers if t.id not in dead_ids).items():
            FIRED.labels(owner, kind).inc(count)
        for row in dead:
            DEAD_LETTERED.labels(row["owner"], row["reason"]).inc()
            log.warning(
                "scheduler: dead-lettered timer %s/%s: %s: %s", row["owner"], row["key"], row["reason"], row["error"]
            )
        lags = {owner: LAG.labels(owner) for owner in {timer.owner for timer in timers}}
        for timer in timers:
            lags[timer.owner].observe((now - timer.due_at).total_seconds())


def _runs(handled: Sequence[tuple[Timer, TimerHandler]]) -> list[tuple[TimerHandler, list[Timer]]]:
    """The timers in due order, cut into runs of one handler (so a batch handler keeps the order of effects)."""
    found: list[tuple[TimerHandler, list[Timer]]] = []
    for timer, handler in handled:
        if found and found[-1][0] is handler:
            found[-1][1].append(timer)
        else:
            found.append((handler, [timer]))
    return found


def _dead_letter(timer: Timer, reason: str, error: str) -> dict[str, Any]:
    return {
        "timer_id": timer.id,
        "owner": timer.owner,
        "kind": timer.kind,
        "key": timer.key,
        "due_at": timer.due_at,
        "payload": timer.payload,
        "reason": reason,
        "error": error,
        "created_at": timer.fired_at,
    }
