"""`/ready` tells the truth: a worker thread that died, or a loop stuck past the set time, is a 503 naming it."""

from __future__ import annotations

import threading
import time

from eventlog.health import Heartbeat
from tests.conftest import ApiClient


def _workers(local_api: ApiClient):  # the running app's workers
    return local_api.client.app.state.workers


def test_ready_is_200_while_every_loop_is_alive_and_moving(local_api: ApiClient) -> None:
    answer = local_api.client.get("/ready")
    assert answer.status_code == 200, answer.text
    assert any(name.startswith("consumer:") for name in (t.name for t in _workers(local_api).threads))
    assert "scheduler" in {thread.name for thread in _workers(local_api).threads}


def test_a_worker_thread_that_died_is_named(local_api: ApiClient) -> None:
    def crash(stop: threading.Event) -> None:
        raise RuntimeError("a bug that is not transient")

    _workers(local_api).start("consumer:doomed", crash)
    time.sleep(0.2)
    answer = local_api.client.get("/ready")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "consumer:doomed: thread died" in answer.json()["problems"]


def test_a_loop_busy_on_one_batch_past_the_set_time_is_named(local_api: ApiClient) -> None:
    beat = Heartbeat("consumer:slow")
    beat.busy("3 records from leadflow.touches@0:41")
    beat.busy_since = time.monotonic() - 10_000  # as if it had been stuck there for hours
    _workers(local_api).heartbeats.append(beat)
    answer = local_api.client.get("/ready")
    assert answer.status_code == 503
    [problem] = answer.json()["problems"]
    assert problem.startswith("consumer:slow: stuck for")
    assert problem.endswith("on 3 records from leadflow.touches@0:41")


def test_a_relay_with_rows_waiting_and_no_progress_is_named() -> None:
    beat = Heartbeat("relay")
    beat.waiting("12 outbox rows pending")
    assert beat.problem(stuck_after_s=60, now=beat.last_progress + 30) is None
    assert beat.problem(stuck_after_s=60, now=beat.last_progress + 61) == (
        "relay: no progress for 61 s with 12 outbox rows pending"
    )
    beat.progressed()
    assert beat.problem(stuck_after_s=60, now=beat.last_progress + 1_000) is None
