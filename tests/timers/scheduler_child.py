"""A scheduler in its own process, for tests that run several at once or kill one (SIGKILL) mid-batch."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import datetime

from database.engine import make_engine
from tests.timers.support import drain, record_effect, scheduler
from timers.scheduler import Timer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--now", required=True, type=datetime.fromisoformat)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--kill-at-key")
    args = parser.parse_args()

    def handler(timer: Timer, uow) -> None:
        record_effect(timer, uow)
        if timer.key == args.kill_at_key:
            os.kill(os.getpid(), signal.SIGKILL)  # dies mid-batch: nothing of this batch is committed

    sched = scheduler(
        make_engine(args.db_url),
        lambda: args.now,
        handlers={("nurture", "step_due"): handler},
        batch_size=args.batch_size,
    )
    print("ready", flush=True)
    sys.stdin.readline()  # the test starts every child at once
    print(f"fired {drain(sched)}", flush=True)


if __name__ == "__main__":
    main()
