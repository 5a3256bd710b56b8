"""Concurrent ingest on the embedded SQLite default: writers wait their turn and succeed, the event loop stays free."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from database.engine import DatabaseBusy, WriteQueue, make_engine
from eventlog.models import OutboxRecord
from tests.test_http_limits import AUTOMATION, Served, local_app, segment_track, serve

THREADS = 8
BATCH = 400


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Served]:
    """The app `leadflow up` serves, behind uvicorn, with its consumers running."""
    with serve(local_app(tmp_path)) as running:
        yield running


def _batch(thread: int) -> dict[str, Any]:
    return {"batch": [segment_track(thread * 10_000 + n) for n in range(BATCH)]}


def test_eight_threads_ingesting_at_once_on_sqlite_all_get_202(up: Served) -> None:
    with httpx.Client(timeout=300) as client, ThreadPoolExecutor(THREADS) as pool:
        answers = list(
            pool.map(lambda n: client.post(f"{up.url}/v1/touches", json=_batch(n), headers=AUTOMATION), range(THREADS))
        )

    assert [answer.status_code for answer in answers] == [202] * THREADS, [a.text[:200] for a in answers]
    engine = up.app.state.context.engine
    with engine.connect() as connection:
        stored = connection.scalar(
            select(func.count())
            .select_from(OutboxRecord)
            .where(OutboxRecord.event_type.like("leadflow.touch.recorded%"))
        )
    assert stored == THREADS * BATCH


def test_ingest_waiting_for_the_database_leaves_the_server_answering(up: Served) -> None:
    engine = up.app.state.context.engine
    with httpx.Client(timeout=300) as client, ThreadPoolExecutor(3) as pool:
        with engine.begin() as connection:  # hold SQLite's write turn, as a long transaction would
            connection.execute(text("SELECT 1"))
            waiting = [
                pool.submit(client.post, f"{up.url}/v1/touches", json=_batch(n), headers=AUTOMATION) for n in range(3)
            ]
            time.sleep(1.0)  # let them reach the database and queue behind this transaction
            health = httpx.get(f"{up.url}/health", timeout=10)
            still_waiting = sum(not future.done() for future in waiting)
        answers = [future.result() for future in waiting]

    assert health.status_code == 200
    assert still_waiting == 3
    assert [answer.status_code for answer in answers] == [202, 202, 202]


def test_many_threads_writing_one_sqlite_file_all_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tally (writer INTEGER, n INTEGER)"))

    def write(writer: int) -> None:
        for n in range(25):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO tally VALUES (:writer, :n)"), {"writer": writer, "n": n})
                connection.execute(text("SELECT count(*) FROM tally")).scalar()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(write, range(16)))

    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tally")).scalar() == 16 * 25
    engine.dispose()


def test_the_write_queue_serves_writers_in_the_order_they_asked() -> None:
    queue = WriteQueue()
    queue.acquire("first")
    served: list[str] = []

    def writer(name: str) -> None:
        queue.acquire(name)
        served.append(name)
        queue.release(name)

    threads = []
    for name in ("a", "b", "c", "d"):
        thread = threading.Thread(target=writer, args=(name,))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # so that the order of asking is known
    queue.release("nobody")  # not the holder: nothing happens
    assert served == []
    queue.release("first")
    for thread in threads:
        thread.join(timeout=10)

    assert served == ["a", "b", "c", "d"]


def test_a_writer_that_waits_past_the_timeout_gets_database_busy_and_leaves_the_line() -> None:
    queue = WriteQueue(timeout_s=0.1)
    queue.acquire("holder")

    with pytest.raises(DatabaseBusy, match=r"waited 0\.1 s"):
        queue.acquire("patient")

    queue.release("holder")
    queue.acquire("next")  # the line is empty again: served at once
    queue.release("next")
