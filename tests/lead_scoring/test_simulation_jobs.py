"""The simulation runner on real PostgreSQL: claiming with SKIP LOCKED, leases, retries, progress and failures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update

from auth.tokens import Principal
from eventlog.backends import SqlEventLog
from services.lead_scoring.definitions import commands
from services.lead_scoring.models import LeadDefinitionVersion, SimulationJob
from services.lead_scoring.simulation import jobs_repository
from services.lead_scoring.simulation.jobs import LEASE, Claim, Reporter, SimulationRunner, request_simulation
from services.lead_scoring.simulation.schemas import SimulateIn
from tests.clock import T0, Clock
from tests.lead_scoring.test_definition_api import example_document

WINDOW = SimulateIn(start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 11, 3, tzinfo=UTC))
OPS = Principal(subject="ops", role="marketing_ops")


@pytest.fixture
def log(postgres_engine: Engine) -> SqlEventLog:
    """The SQL event log on a fresh PostgreSQL database."""
    return SqlEventLog(postgres_engine)


def a_draft(log: SqlEventLog) -> uuid.UUID:
    """The shipped example, as a draft; its id."""
    with log.unit_of_work() as uow:
        return commands.create_draft(uow, document=example_document(), actor=OPS, now=T0).id


def asked(log: SqlEventLog, definition_id: uuid.UUID, *, at: datetime = T0) -> uuid.UUID:
    """A simulation asked for; its job id."""
    with log.unit_of_work() as uow:
        return request_simulation(uow, definition_id=definition_id, request=WINDOW, actor=OPS, now=at).id


def job(log: SqlEventLog, job_id: uuid.UUID) -> SimulationJob:
    """The job row as stored now."""
    with log.unit_of_work() as uow:
        found = uow.session.get(SimulationJob, job_id)
        assert found is not None
        uow.session.expunge(found)  # read as it is now, and kept readable once the unit of work ends
        return found


def set_job(log: SqlEventLog, job_id: uuid.UUID, **values: Any) -> None:
    """Change a job row as a runner would have left it."""
    with log.unit_of_work() as uow:
        uow.session.execute(update(SimulationJob).where(SimulationJob.id == job_id).values(**values))
        uow.commit()


def test_a_job_locked_by_one_runner_is_skipped_by_another_which_takes_the_next(log: SqlEventLog) -> None:
    draft_id = a_draft(log)
    first, second = asked(log, draft_id), asked(log, draft_id, at=T0 + timedelta(seconds=1))

    with log.unit_of_work() as one, log.unit_of_work() as other:
        held = jobs_repository.next_claimable(one.session, now=T0)
        taken = jobs_repository.next_claimable(other.session, now=T0)

        assert held is not None
        assert taken is not None
        assert (held.id, taken.id) == (first, second)


def test_a_running_job_is_left_to_its_runner_until_its_lease_passes_then_taken_again(log: SqlEventLog) -> None:
    clock = Clock()
    draft_id = a_draft(log)
    job_id = asked(log, draft_id)
    set_job(log, job_id, status="running", phase="replaying", attempts=1, lease_until=clock() + LEASE)
    runner = SimulationRunner(log, clock=clock)

    assert runner.run_once() is False  # its runner renews the lease: alive
    clock.advance(seconds=LEASE.total_seconds() + 1)  # it stopped renewing: dead
    assert runner.run_once() is True

    done = job(log, job_id)
    assert (done.status, done.attempts, done.phase, done.lease_until, done.error) == ("done", 2, None, None, None)
    assert (done.started_at, done.finished_at) == (clock(), clock())
    assert done.result is not None
    assert (done.result["draft"]["definition_id"], done.result["published"]) == (str(draft_id), None)


def test_the_reporter_writes_progress_and_renews_the_lease_while_its_attempt_holds_the_job(log: SqlEventLog) -> None:
    clock = Clock()
    draft_id = a_draft(log)
    job_id = asked(log, draft_id)
    set_job(log, job_id, status="running", attempts=1, lease_until=clock() + LEASE)
    reporter = Reporter(log, Claim(job_id, 1, draft_id, WINDOW), clock=clock)
    clock.advance(seconds=20)

    reporter.update("replaying", 50_000, 200_000)
    assert reporter.write() is True

    running = job(log, job_id)
    assert (running.phase, running.done, running.total, running.lease_until) == (
        "replaying",
        50_000,
        200_000,
        clock() + LEASE,
    )
    stale = Reporter(log, Claim(job_id, 0, draft_id, WINDOW), clock=clock)  # an attempt another runner took over
    assert stale.write() is False


def test_a_draft_whose_stored_document_no_longer_parses_ends_failed_with_the_reason(log: SqlEventLog) -> None:
    draft_id = a_draft(log)
    job_id = asked(log, draft_id)
    with log.unit_of_work() as uow:  # an older document, stored before today's validation
        uow.session.execute(
            update(LeadDefinitionVersion)
            .where(LeadDefinitionVersion.id == draft_id)
            .values(document={"name": "legacy", "fit": {"rules": "not a list"}})
        )
        uow.commit()

    assert SimulationRunner(log, clock=Clock()).run_once() is True

    failed = job(log, job_id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.startswith(f"lead definition {draft_id} is invalid: ")
    assert (failed.result, failed.finished_at) == (None, T0)
