"""Nurture's scheduler in its own process, killed (SIGKILL) in the middle of a batch after its n-th step fired."""

from __future__ import annotations

import argparse
import os
import signal
from datetime import datetime

from database.engine import make_engine
from eventlog.backends import SqlEventLog
from eventlog.unit_of_work import UnitOfWork
from services.nurture.enrollment.book import StoredTracks
from services.nurture.enrollment.handlers import OWNER, STEP_DUE
from services.nurture.scheduling import step_due
from timers.scheduler import Scheduler, Timer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--now", required=True, type=datetime.fromisoformat)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--kill-after", type=int, required=True)
    args = parser.parse_args()
    fire = step_due(StoredTracks())
    fired = 0

    def handler(timer: Timer, uow: UnitOfWork) -> None:
        nonlocal fired
        fire(timer, uow)
        uow.flush()  # the action is in the outbox of the open transaction when the process dies
        fired += 1
        if fired == args.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    log = SqlEventLog(make_engine(args.db_url))
    scheduler = Scheduler(
        uow=log.unit_of_work(),
        handlers={(OWNER, STEP_DUE): handler},
        clock=lambda: args.now,
        batch_size=args.batch_size,
    )
    while scheduler.step():
        pass


if __name__ == "__main__":
    main()
