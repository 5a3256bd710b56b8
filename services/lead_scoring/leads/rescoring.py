"""Rescoring every lead after a definition is published, in chunks, with progress that survives restarts.

Open MQLs the new version no longer qualifies are kept, or returned to engaged, as the version's
`republication.open_mqls` says (both sides approved it with the document); the job counts each case.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from eventlog.backends import EventLog
from eventlog.loop import run_loop
from events.envelope import utc_now
from services.lead_scoring import repository
from services.lead_scoring.leads import repository as leads_repository
from services.lead_scoring.leads.batch import Adjust, ScoringBatch
from services.lead_scoring.leads.scope import Scope
from services.lead_scoring.scoring.engine import Decision
from services.lead_scoring.scoring.lifecycle import Transition, republish

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
            job = leads_repository.next_rescore_job(session)
            if job is None:
                return False
            if job.definition_version != leads_repository.version_in_force(session):
                job.status, job.finished_at = "superseded", utc_now()
                uow.commit()
                return True
            if job.status == "pending":
                job.status = "running"
                job.total = leads_repository.live_contact_count(session)
            # An account is decided as a whole, so the job walks scopes: accounts, and contacts without one.
            keys = leads_repository.scope_keys_after(session, job.cursor, self._chunk)
            if not keys:
                job.status, job.finished_at = "done", utc_now()
                uow.commit()
                log.info("rescored %s leads under definition version %s", job.done, job.definition_version)
                return True
            batch = ScoringBatch(uow, repository.definition_of_version(session, job.definition_version))
            scopes = batch.load_scopes(keys, everyone=True)  # every lead's engagement is counted under the version
            adjust, cases = _open_mqls(session, batch, scopes, job.created_at)
            for scope in scopes:
                book = scope.book
                if not book.leads:
                    continue
                # Time is the publication's (or later, for an account the consumer scored since under the version).
                now = batch.not_before(scope, job.created_at)
                decisions = book.decide(next(iter(book.leads)), now, everyone=True)
                batch.store(scope, decisions, None, adjust=adjust, every_change=True)
                job.done += len(book.leads)
            for case, count in cases.items():
                setattr(job, f"mqls_{case}", getattr(job, f"mqls_{case}") + count)
            batch.writes.flush(session)
            batch.flush_standings()
            job.cursor = keys[-1]
            uow.commit()
            return True


# Sales' decisions that mean a handoff accepted the lead (it went on to convert, win or lose after accepting).
ACCEPTED = ("accepted", "converted", "won", "lost")


def _open_mqls(
    session: Session, batch: ScoringBatch, scopes: list[Scope], now: datetime
) -> tuple[Adjust, Counter[str]]:
    """The publication's policy for open MQLs as a change to each transition, and its cases counted."""
    assert batch.definition is not None
    policy = batch.definition.republication.open_mqls
    open_mqls = {
        contact_id: lead.state.mql_at
        for scope in scopes
        for contact_id, lead in scope.book.leads.items()
        if lead.state is not None and lead.state.stage == "mql"
    }
    # Accepted in the current qualification: a decision before it belonged to an earlier cycle.
    accepted = leads_repository.accepted_since(session, open_mqls, ACCEPTED)
    cases: Counter[str] = Counter()

    def adjust(decision: Decision) -> Transition:
        accepted_by_sales = decision.contact_id in accepted
        moved, case = republish(
            decision.previous,
            decision.transition,
            decision.verdict,
            accepted=accepted_by_sales,
            policy=policy,
            now=decision.at,
        )
        if case is not None:
            cases[case] += 1
        return moved

    return adjust, cases
