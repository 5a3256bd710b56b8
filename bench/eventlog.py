"""The event log's consume rate on the real broker and PostgreSQL, beside raw kafka-python on the same topic.

Run: `make bench` (or `scripts/with-services .venv/bin/python bench/eventlog.py --events 200000`).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import fresh_database, populate, raw_consume_rate, report, servers
from eventlog.backends import KafkaEventLog, processor
from events.topics import ALL, TOUCHES


def eventlog_consume_rate(
    engine,
    bootstrap: str,
    topic: str,
    count: int,
    batch_size: int,
    event_type: str = "leadflow.touch.recorded.v1",
    group: str | None = None,
) -> tuple[float, int]:
    """The event log (decode, inbox, no-op handler, one transaction per batch, offsets after commit), in events/s.

    `topic` is a deployment's topic for `event_type` (`<prefix>leadflow.touches` for touches): an event on a topic
    its type does not belong to is dead-lettered as wrong_topic, and the count never reached.
    """
    home = next((name for name in ALL if topic.endswith(name)), None)
    if home is None:
        raise ValueError(f"topic {topic!r}: must be <prefix> and one of {', '.join(ALL)}")
    prefix = topic.removesuffix(home)
    handled = 0
    first: float | None = None
    done = threading.Event()

    cpu_first = 0.0

    def no_op(event, uow) -> None:
        nonlocal handled, first, cpu_first
        if first is None:
            first, cpu_first = time.perf_counter(), time.process_time()
        handled += 1
        if handled >= count:
            done.set()

    log = KafkaEventLog(engine, bootstrap, topic_prefix=prefix)
    loop = processor(
        log,
        group=group or f"bench-eventlog-{uuid.uuid4().hex[:6]}",
        topics=[home],
        handlers={event_type: no_op},
        batch_size=batch_size,
    )
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    done.wait()
    finished, cpu = time.perf_counter(), time.process_time() - cpu_first
    stop.set()
    thread.join()
    assert first is not None
    print(f"  event log CPU per event (this process; PostgreSQL's own not counted): {cpu / count * 1e6:.1f} us")
    from sqlalchemy import text

    with engine.connect() as connection:
        inbox_rows = connection.execute(text("SELECT count(*) FROM eventlog.inbox")).scalar_one()
    return count / (finished - first), inbox_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    url, bootstrap = servers()
    topic = f"bench{uuid.uuid4().hex[:8]}.{TOUCHES}"

    print(f"bench/eventlog: {args.events:,} small touch.recorded events on {topic} ({args.partitions} partitions)")
    produce_rate = populate(bootstrap, topic, args.events, args.partitions)
    raw_rate = raw_consume_rate(bootstrap, topic, args.events)
    with fresh_database(url) as engine:
        log_rate, inbox_rows = eventlog_consume_rate(engine, bootstrap, topic, args.events, args.batch_size)
    report(
        [
            ("producer (kafka-python, to populate)", f"{produce_rate:>10,.0f} events/s"),
            ("raw kafka-python consume (median of 3 reads)", f"{raw_rate:>10,.0f} events/s"),
            (f"event log consume (inbox + no-op, PostgreSQL, batch {args.batch_size})", f"{log_rate:>10,.0f} events/s"),
            ("ratio event log / raw", f"{log_rate / raw_rate:>10.2f}"),
            ("inbox rows written", f"{inbox_rows:>10,}"),
        ]
    )


if __name__ == "__main__":
    main()
