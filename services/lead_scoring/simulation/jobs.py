"""Simulation jobs: asked for over the API, run one at a time by a background loop, their result kept on the row.

A runner claims the oldest pending job and holds it under a lease it renews while it works (with the progress);
a job whose runner died (its lease passed while `running`) is claimed again, up to MAX_ATTEMPTS times. A
simulation that cannot run (its definition deleted, say) ends `failed` with the reason; a transient fault
(database unreachable) leaves the job to be taken again once its lease passes.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from auth.tokens import Principal
from eventlog.backends import EventLog
from eventlog.loop import run_loop
from eventlog.retry import is_transient
from eventlog.unit_of_work import UnitOfWork
from events.envelope import utc_now
from services.lead_scoring.definitions import commands
from services.lead_scoring.models import SimulationJob
from services.lead_scoring.simulation import jobs_repository
from services.lead_scoring.simulation.schemas import SimulateIn
from services.lead_scoring.simulation.service import SimulationFailed, run_simulation

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 3
MAX_ERROR_CHARS = 2_000


def request_simulation(
    uow: UnitOfWork, *, definition_id: uuid.UUID, request: SimulateIn, actor: Principal, now: datetime
) -> SimulationJob:
    """Ask for a simulation of a definition (DefinitionNotFound if there is none); the runner takes it up."""
    commands.get_definition(uow.session, definition_id)
    job = SimulationJob(
        id=uuid.uuid4(),
        definition_id=definition_id,
        status="pending",
        window_start=request.start,
        window_end=request.end,
        segment=request.segment,
        requested_by=actor.subject,
        done=0,
        total=0,
        attempts=0,
        created_at=now,
    )
    jobs_repository.add_job(uow.session, job=job)
    uow.commit()
    return job


@dataclass(frozen=True)
class Claim:
    """A job a runner holds: which attempt it is (the row is written only while it still is), and its request."""

    job_id: uuid.UUID
    attempt: int
    definition_id: uuid.UUID
    request: SimulateIn


class SimulationRunner:
    """Runs simulation jobs one at a time: claims the oldest, reports its progress while it runs, keeps its result."""

    def __init__(
        self,
        event_log: EventLog,
        *,
        workers: int = 1,
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._log = event_log
        # One process by default: forking a server that runs consumer threads is not safe.
        self._workers = workers
        self._lease = lease
        self._clock = clock

    def run(self, stop: threading.Event, idle_s: float = 0.5) -> None:
        """Run jobs until `stop` is set (the job in hand is finished first)."""
        run_loop("simulations", lambda: 0.0 if self.run_once() else idle_s, stop)

    def run_once(self) -> bool:
        """Claim and run the oldest job waiting; False when there is none."""
        with self._log.unit_of_work() as uow:
            now = self._clock()
            job = jobs_repository.next_claimable(uow.session, now=now)
            if job is None:
                return False
            if job.attempts >= MAX_ATTEMPTS:
                _end(job, now, error=f"given up after {job.attempts} attempts: its runner stopped each time")
                uow.commit()
                return True
            claim = _start(job, now, now + self._lease)
            uow.commit()
        self._run(claim)
        return True

    def _run(self, claim: Claim) -> None:
        reporter = Reporter(self._log, claim, lease=self._lease, clock=self._clock)
        reporter.start()
        try:
            result = run_simulation(
                self._session,
                definition_id=claim.definition_id,
                request=claim.request,
                workers=self._workers,
                progress=reporter.update,
            )
        except Exception as error:
            reporter.stop()
            if is_transient(error):
                raise  # the loop backs off; the job is taken again once its lease passes
            if not isinstance(error, SimulationFailed):
                log.exception("simulation %s failed", claim.job_id)
            self._finish(claim, reporter.latest(), error=_reason(error))
            return
        reporter.stop()
        self._finish(claim, reporter.latest(), result=result.model_dump(mode="json"))

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._log.unit_of_work() as uow:  # read only: it ends without a commit
            yield uow.session

    def _finish(
        self, claim: Claim, progress: dict[str, Any], *, result: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        with self._log.unit_of_work() as uow:
            job = jobs_repository.claimed_job(uow.session, job_id=claim.job_id, attempt=claim.attempt)
            if job is None:
                log.warning("simulation %s: another runner took it over; this attempt's end is dropped", claim.job_id)
                return
            job.done, job.total = progress["done"], progress["total"]
            _end(job, self._clock(), result=result, error=error)
            uow.commit()


class Reporter:
    """Writes a running job's latest progress, and renews its lease, every `every_s` seconds from its own thread.

    The simulation calls `update` as often as it likes and never waits for the database; on SQLite a write waits
    while the history is read (that transaction holds the write lock), and the replay goes on meanwhile.
    """

    def __init__(
        self,
        event_log: EventLog,
        claim: Claim,
        *,
        lease: timedelta = LEASE,
        every_s: float = 1.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._log = event_log
        self._claim = claim
        self._lease = lease
        self._every_s = every_s
        self._clock = clock
        self._state: dict[str, Any] = {"phase": "loading", "done": 0, "total": 0}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=f"simulation:{claim.job_id}", daemon=True)

    def start(self) -> None:
        """Start reporting."""
        self._thread.start()

    def update(self, phase: str, done: int, total: int) -> None:
        """The simulation's progress; a new phase is written at once, counts at the next beat."""
        with self._lock:
            new_phase = phase != self._state["phase"]
            self._state = {"phase": phase, "done": done, "total": total}
        if new_phase:
            self._wake.set()

    def latest(self) -> dict[str, Any]:
        """The last progress reported."""
        with self._lock:
            return dict(self._state)

    def stop(self) -> None:
        """Stop reporting (the last beat is not written: the job's end writes the final counts)."""
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._every_s)
            self._wake.clear()
            if self._stopping:
                return
            try:
                self.write()
            except Exception:  # a missed beat is made up by the next one; the lease outlasts many
                log.warning("simulation %s: progress not written", self._claim.job_id, exc_info=True)

    def write(self) -> bool:
        """Write the latest progress and renew the lease now; False if the job is no longer this runner's."""
        with self._log.unit_of_work() as uow:
            held = jobs_repository.report_progress(
                uow.session,
                job_id=self._claim.job_id,
                attempt=self._claim.attempt,
                lease_until=self._clock() + self._lease,
                **self.latest(),
            )
            uow.commit()
        return held


def _start(job: SimulationJob, now: datetime, lease_until: datetime) -> Claim:
    """Mark a job running under a new attempt (a retried job starts over)."""
    job.status, job.phase, job.done, job.total = "running", "loading", 0, 0
    job.attempts += 1
    job.started_at, job.lease_until = now, lease_until
    request = SimulateIn(start=job.window_start, end=job.window_end, segment=job.segment)
    return Claim(job.id, job.attempts, job.definition_id, request)


def _end(job: SimulationJob, now: datetime, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
    """Mark a job done with its result, or failed with the reason."""
    job.status = "failed" if error is not None else "done"
    job.phase, job.lease_until, job.finished_at = None, None, now
    job.result, job.error = result, error


def _reason(error: Exception) -> str:
    """What a failed job says: the reason a simulation could not run, or the unexpected error it met."""
    text = str(error) if isinstance(error, SimulationFailed) else f"unexpected error: {type(error).__name__}: {error}"
    return text[:MAX_ERROR_CHARS]
