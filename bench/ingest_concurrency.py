"""Concurrent Segment batches against `leadflow up` on the embedded default (SQLite): every answer and its time.

`leadflow up` runs in a subprocess on a SQLite file in a temporary directory, with the example lead definition
published so the consumers score while the batches arrive. One batch is posted alone, then twelve at once; each
batch is 3,000 compact Segment track calls (under the 1 MiB body limit).

    .venv/bin/python -m bench.ingest_concurrency [--batches 12] [--items 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

from auth.tokens import issue_token
from kernel.http_limits import MAX_BODY_BYTES

ROOT = Path(__file__).resolve().parent.parent
LEADFLOW = str(Path(sys.executable).parent / "leadflow")
SECRET = "bench-secret"
TOUCHES = "leadflow.touches"


def _bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, f'bench-{role}', role)}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def batch(number: int, items: int) -> bytes:
    """A Segment batch of `items` compact track calls, spread over 500 accounts of 5 contacts each."""
    calls = []
    for n in range(items):
        contact = (number * items + n) % 2500
        calls.append(
            {
                "type": "track",
                "messageId": f"b{number}-{n}",
                "userId": f"u{contact}",
                "event": "Page Viewed",
                "timestamp": f"2026-11-02T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
                "context": {"traits": {"email": f"p{contact % 5}@a{contact // 5}.example"}},
            }
        )
    body = json.dumps({"batch": calls}, separators=(",", ":")).encode()
    assert len(body) < MAX_BODY_BYTES, f"batch of {len(body)} bytes is over the body limit"
    return body


def start_up(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`leadflow up` on a SQLite file in `directory`; its process and URL once /health answers."""
    port = _free_port()
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{directory / 'up.db'}", "LEADFLOW_SECRET_KEY": SECRET}
    log = (directory / "up.log").open("wb")
    process = subprocess.Popen([LEADFLOW, "up", "--port", str(port)], cwd=directory, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"leadflow up did not start:\n{(directory / 'up.log').read_text()}")
        time.sleep(0.1)


def publish_example(url: str) -> None:
    """Draft, approve on both sides and publish config/lead_definition.example.yaml."""
    document = yaml.safe_load((ROOT / "config/lead_definition.example.yaml").read_text())
    draft = httpx.post(f"{url}/v1/definitions", json={"document": document}, headers=_bearer("marketing_ops"))
    draft.raise_for_status()
    for role in ("marketing_ops", "sales_ops"):
        approval = httpx.post(
            f"{url}/v1/definitions/{draft.json()['id']}/approvals", json={"revision": 1}, headers=_bearer(role)
        )
        approval.raise_for_status()
    httpx.post(f"{url}/v1/definitions/{draft.json()['id']}/publish", json={}, headers=_bearer("sales_ops"), timeout=60)


def post(url: str, body: bytes) -> tuple[int, float, str]:
    """POST one batch; its status, seconds, and the start of its answer."""
    started = time.perf_counter()
    headers = {**_bearer("marketing_automation"), "content-type": "application/json"}
    response = httpx.post(f"{url}/v1/touches", content=body, headers=headers, timeout=600)
    return response.status_code, time.perf_counter() - started, response.text[:120]


def consumers_behind(database: Path) -> int:
    """Touches appended that the slowest consumer group of the touches topic has not handled yet."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        last = connection.execute("SELECT max(position) FROM outbox WHERE topic = ?", (TOUCHES,)).fetchone()[0]
        offsets = [
            row[0] for row in connection.execute("SELECT position FROM consumer_offset WHERE topic = ?", (TOUCHES,))
        ]
    return max(0, (last or 0) - min(offsets, default=0))


def wait_for_consumers(database: Path, timeout_s: float = 900) -> float:
    """Seconds until the consumers have handled every touch."""
    started = time.perf_counter()
    while consumers_behind(database) > 0 and time.perf_counter() - started < timeout_s:
        time.sleep(0.2)
    return time.perf_counter() - started


def report(label: str, results: list[tuple[int, float, str]], wall_s: float) -> None:
    """Print each request's status and latency, then min/p50/max and the wall time."""
    print(f"\n{label}")
    for number, (status, seconds, text) in enumerate(results):
        print(f"  request {number:>2}: {status} in {seconds:6.2f} s" + ("" if status == 202 else f"  {text}"))
    latencies = [seconds for _, seconds, _ in results]
    statuses = sorted({status for status, _, _ in results})
    print(
        f"  statuses {statuses}; latency min {min(latencies):.2f} s, p50 {statistics.median(latencies):.2f} s, "
        f"max {max(latencies):.2f} s; wall time {wall_s:.2f} s"
    )


def main(arguments: Any) -> int:
    """Run the benchmark; exit status 1 if any request did not get 202."""
    with tempfile.TemporaryDirectory(prefix="leadflow-bench-") as name:
        directory = Path(name)
        process, url = start_up(directory)
        try:
            publish_example(url)
            bodies = [batch(number, arguments.items) for number in range(arguments.batches + 1)]
            print(
                f"leadflow up on SQLite ({directory / 'up.db'}); {arguments.batches} concurrent batches of "
                f"{arguments.items} Segment track calls, {len(bodies[0]) / 1024:.0f} KiB each; {os.cpu_count()} CPUs"
            )
            started = time.perf_counter()
            alone = [post(url, bodies[0])]
            report("one batch alone", alone, time.perf_counter() - started)
            print(f"  consumers caught up {wait_for_consumers(directory / 'up.db'):.1f} s after it was accepted")

            started = time.perf_counter()
            with ThreadPoolExecutor(arguments.batches) as pool:
                together = list(pool.map(lambda body: post(url, body), bodies[1:]))
            wall = time.perf_counter() - started
            report(f"{arguments.batches} batches at once", together, wall)
            print(f"  consumers caught up {wait_for_consumers(directory / 'up.db'):.1f} s after the last was accepted")
            errors = (directory / "up.log").read_text().count("database is locked")
            print(f"  'database is locked' in the server log: {errors}")
        finally:
            process.terminate()
            process.wait(timeout=60)
    return 0 if all(status == 202 for status, _, _ in alone + together) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=12, help="Batches posted at once.")
    parser.add_argument("--items", type=int, default=3000, help="Segment calls in each batch.")
    sys.exit(main(parser.parse_args()))
