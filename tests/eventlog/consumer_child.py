"""A consumer in its own process, for tests that kill it (SIGKILL) or stop it (SIGTERM)."""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Sequence

from database.engine import make_engine
from eventlog.log import Record
from leadflow.runtime import stop_on_signals
from tests.eventlog.harness import Harness, make_harness, record_effect


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--bootstrap")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--group", required=True)
    parser.add_argument("--kill-at-seq", type=int)
    parser.add_argument("--kill-point", choices=["handler", "before_offset_commit"], default="handler")
    args = parser.parse_args()

    harness = make_harness("child", make_engine(args.db_url), args.db_url, args.bootstrap, prefix=args.prefix)
    stop = stop_on_signals()

    def handler(event, uow):
        record_effect(event, uow, args.group)
        if args.kill_point == "handler" and event.data.properties["seq"] == args.kill_at_seq:
            os.kill(os.getpid(), signal.SIGKILL)  # dies mid-batch: nothing of this batch is committed

    proc = harness.processor(args.group, handler, batch_size=10)
    if args.kill_point == "before_offset_commit":
        _kill_before_committing(proc, args.kill_at_seq)
    print("ready", flush=True)
    proc.run(stop)
    print("stopped cleanly", flush=True)


def _kill_before_committing(proc, seq: int) -> None:
    """Die after the database committed the batch holding `seq`, before the offsets are committed."""
    consumer = proc._consumer
    original_commit = consumer.commit

    def commit(records: Sequence[Record]) -> None:
        if any(f'"seq":{seq}' in (record.value or b"").decode() for record in records):
            os.kill(os.getpid(), signal.SIGKILL)
        original_commit(records)

    consumer.commit = commit


if __name__ == "__main__":
    main()
    raise SystemExit(0)


__all__ = ["Harness"]
