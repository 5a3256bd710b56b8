"""Rescoring every lead after a definition is published, in chunks, with progress that survives restarts."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import func, select

from eventlog.backends import EventLog
from eventlog.loop import run_loop
from events.envelope import utc_now
from services.lead_scoring import repository
from services.lead_scoring.handlers import ScoringBatch
from services.lead_scoring.models import Contact, LeadDefinitionVersion, RescoreJob

log = logging.getLogger(__name__)


class Rescorer:
    """Works through pending rescore jobs, a chunk of accounts per transaction."""

    def __init__(self, event_log: EventLog, chunk: int = 100) -> None:
        self._log = event_log
        self._chunk = chunk

    def run(self, stop: threading.Event, idle_s: float = 0.5) -> None:
        """Rescore until `stop` is set."""
        run_loop("rescorer", lambda: 0.0 if self.run_once() else idle_s, stop)

    def run_once(self) -> bool:
        """Rescore one chunk of the oldest unfinished job; False when there is nothing to do."""
        with self._log.unit_of_work() as uow:
            session = uow.session
            job = session.scalar(
                select(RescoreJob)
                .where(RescoreJob.status.in_(("pending", "running")))
                .order_by(RescoreJob.created_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job is None:
                return False
            in_force = session.scalar(
                select(LeadDefinitionVersion.version).where(LeadDefinitionVersion.status == "published")
            )
            if job.definition_version != in_force:
                job.status, job.finished_at = "superseded", utc_now()
                uow.commit()
                return True
            if job.status == "pending":
                job.status = "running"
                job.total = session.scalar(select(func.count()).where(Contact.merged_into.is_(None))) or 0
            # An account is evaluated as a whole, so the job walks scopes: accounts, and contacts without one
            # (a scope keyed by the contact), in the order of that key.
            scope_key = func.coalesce(Contact.account_id, Contact.id)
            query = select(scope_key).where(Contact.merged_into.is_(None)).group_by(scope_key).order_by(scope_key)
            if job.cursor is not None:
                query = query.where(scope_key > job.cursor)
            keys = list(session.scalars(query.limit(self._chunk)))
            if not keys:
                job.status, job.finished_at = "done", utc_now()
                uow.commit()
                log.info("rescored %s leads under definition version %s", job.done, job.definition_version)
                return True
            batch = ScoringBatch(uow, repository.definition_of_version(session, job.definition_version))
            for scope in batch.load_scopes(keys):
                # Time is the publication's: a rescore is a replay of the same moment, whenever it runs.
                batch.evaluate(scope, job.created_at, trigger=None, focus=set(scope.members))
                job.done += len(scope.members)
            batch.writes.flush(session)
            job.cursor = keys[-1]
            uow.commit()
            return True
