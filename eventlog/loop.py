"""The one background loop: a step function run until a stop signal, with backoff on transient faults.

The consumer processor, the relay, the rescorer, the timer scheduler and the webhook sender are all this loop
around a step of their own. A step does one unit of work and says how long to rest before the next one (0 to
go on at once). A transient fault (database or broker unreachable) backs off and tries again; anything else
ends the loop, and readiness names the dead thread.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable

from prometheus_client import Counter

from eventlog.health import Heartbeat
from eventlog.retry import Backoff, is_transient

log = logging.getLogger(__name__)

STEPS = Counter(
    "leadflow_loop_steps_total", "Steps of each background loop, by whether they found work", ["loop", "work"]
)
FAULTS = Counter(
    "leadflow_loop_transient_faults_total", "Transient faults each background loop backed off from", ["loop"]
)

Step = Callable[[], float]
"""Does one unit of work; returns the seconds to rest before the next step (0: go on at once)."""

_heap_settled = threading.Event()


def settle_heap() -> None:
    """Once per process: what exists when the first loop starts is set aside from the cyclic garbage collector.

    A loop's process is mostly set-up that lives as long as it does (modules, pydantic schemas, clients, metadata:
    over 100,000 objects). A consumer's batch of decoded events outlives the youngest generation, so full
    collections come every few batches, and each walked the whole set-up heap for nothing: in bench/eventlog.py
    that doubled the CPU time of decoding. Frozen objects are still freed when their count drops to zero.
    """
    if _heap_settled.is_set():
        return
    _heap_settled.set()
    gc.collect()  # garbage of the set-up goes now, not frozen with the rest
    gc.freeze()


def run_loop(
    name: str,
    step: Step,
    stop: threading.Event,
    *,
    heartbeat: Heartbeat | None = None,
    on_fault: Callable[[BaseException], None] | None = None,
) -> None:
    """Run `step` until `stop` is set; the step in hand is finished first."""
    settle_heap()
    backoff = Backoff()
    while not stop.is_set():
        try:
            rest = step()
        except Exception as error:
            if not is_transient(error):
                log.exception("%s: stopped by an error that is not transient", name)
                raise
            FAULTS.labels(name).inc()
            if on_fault is not None:
                on_fault(error)
            if heartbeat is not None and heartbeat.busy_with is None:
                heartbeat.waiting("work held up by a transient fault")
            delay = backoff.next()
            log.warning("%s: transient fault, retrying in %.1fs: %s", name, delay, error)
            stop.wait(delay)
            continue
        backoff.reset()
        STEPS.labels(name, "no" if rest else "yes").inc()
        if rest:
            stop.wait(rest)
