"""The reps' API under load on PostgreSQL: the queue (a page of 50) and accept, beside the no-op /health.

The API runs as production runs it (`leadflow run handoff`: uvicorn, one process, the Kafka event log) in a
subprocess; the load comes from another process (bench/http_load.py). Per endpoint: open loop at `--rate`
requests/s offered (p50, p99), then closed loop at `--concurrency` in flight (requests/s). /health is the no-op:
a sync route of the same app that does no I/O, so it pays the same HTTP, routing and thread-pool costs.

Run: `scripts/with-services .venv/bin/python bench/handoff_api.py` (add `--handoffs 5000 --reps 20` for a quick
look). Targets (issue 10): p99 at most 50 ms at 200 requests/s offered; throughput at least 0.4 of /health's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import httpx
from sqlalchemy import Engine, text

from auth.tokens import issue_token
from bench.common import fresh_database, report, servers
from bench.handoff_seed import seed
from bench.http_load import ClosedLoop, OpenLoop, closed_loop, cpu_seconds, open_loop
from events.envelope import utc_now

LEADFLOW = os.path.join(os.path.dirname(sys.executable), "leadflow")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(engine: Engine, bootstrap: str, secret: str, log_path: str) -> tuple[subprocess.Popen[bytes], str]:
    """`leadflow run handoff` on the bench database, as production runs it; its URL once /health answers."""
    port = _free_port()
    env = {
        **os.environ,
        "LEADFLOW_ENVIRONMENT": "production",
        "LEADFLOW_SECRET_KEY": secret,
        "LEADFLOW_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "LEADFLOW_EVENT_LOG": "kafka",
        "LEADFLOW_KAFKA_BOOTSTRAP": bootstrap,
        "LEADFLOW_KAFKA_TOPIC_PREFIX": f"bench-{uuid.uuid4().hex[:6]}.",
        "LEADFLOW_HTTP_HOST": "127.0.0.1",
    }
    with open(log_path, "wb") as log:
        server = subprocess.Popen([LEADFLOW, "run", "handoff", "--port", str(port)], env=env, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"`leadflow run handoff` ended with {server.returncode}: see {log_path}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"`leadflow run handoff` did not answer /health within 60 s: see {log_path}")


class Requests:
    """What the load process sends: /health, a rep's queue page, a rep accepting one of their handoffs."""

    def __init__(self, secret: str, rep_emails: list[str], targets: list[tuple[str, str]]) -> None:
        expires = utc_now() + timedelta(days=1)
        self.tokens = {email: issue_token(secret, email, "rep", expires) for email in rep_emails}
        self.reps = rep_emails
        self.targets = targets  # (handoff id, its rep's email): each accepted once
        self.next_target = 0

    def health(self, n: int) -> tuple[str, str, dict[str, str], Any]:
        """The no-op."""
        return "GET", "/health", {}, None

    def queue(self, n: int) -> tuple[str, str, dict[str, str], Any]:
        """A rep reads the first page (50) of their queue, soonest SLA first."""
        email = self.reps[(n * 7919) % len(self.reps)]
        return "GET", "/v1/handoffs?limit=50", self._auth(email), None

    def accept(self, n: int) -> tuple[str, str, dict[str, str], Any]:
        """The rep who holds the next unaccepted handoff accepts it (IndexError when none is left)."""
        handoff_id, email = self.targets[self.next_target]
        self.next_target += 1
        headers = {**self._auth(email), "Idempotency-Key": str(uuid.uuid4())}
        return "POST", f"/v1/handoffs/{handoff_id}/accept", headers, {"note": "calling them today"}

    def _auth(self, email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[email]}"}


def load(url: str, server_pid: int, requests: Requests, args: argparse.Namespace, results: Any) -> None:
    """The load process: per endpoint, the open loop then the closed loop (and the server's CPU per request in it)."""
    for name in ("health", "queue", "accept"):
        make = getattr(requests, name)
        warm = min(50, args.open_count)
        open_loop(url, make, args.rate, warm)  # connections, caches and the JIT-less interpreter warmed alike
        latency = open_loop(url, make, args.rate, args.open_count)
        cpu = cpu_seconds(server_pid)
        throughput = closed_loop(url, make, args.concurrency, args.seconds)
        cpu_ms = (cpu_seconds(server_pid) - cpu) / max(1, throughput.completed) * 1000
        results.put((name, latency, throughput, cpu_ms))
    results.put(None)


def accept_targets(engine: Engine, rep_emails: dict[uuid.UUID, str], count: int) -> list[tuple[str, str]]:
    """`count` distinct assigned handoffs with the email of their rep, shuffled."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, rep_id FROM handoff.handoff WHERE status = 'assigned' ORDER BY random() LIMIT :n"),
            {"n": count},
        ).all()
    return [(str(handoff_id), rep_emails[rep_id]) for handoff_id, rep_id in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--handoffs", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=200, help="reps (role rep), spread over --teams")
    parser.add_argument("--teams", type=int, default=20, help="teams, each with a manager besides its reps")
    parser.add_argument("--rate", type=float, default=200, help="requests/s offered in the open loop")
    parser.add_argument("--open-count", type=int, default=3000, help="requests per endpoint in the open loop")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight in the closed loop")
    parser.add_argument("--seconds", type=float, default=10, help="length of each closed loop")
    args = parser.parse_args()
    url, bootstrap = servers()
    secret = f"bench-{uuid.uuid4().hex}"
    print(f"bench/handoff_api: {args.handoffs:,} handoffs, {args.reps} reps in {args.teams} teams, on PostgreSQL")
    with fresh_database(url) as engine:
        started = time.perf_counter()
        reps = seed(engine, args.handoffs, args.reps, args.teams)
        print(f"  seeded in {time.perf_counter() - started:.1f} s (org through the org handler, handoffs in bulk)")
        # Enough distinct handoffs for both loops of accept at the closed loop's best imaginable pace.
        targets = accept_targets(engine, reps, args.open_count + 50 + int(args.seconds * 2000))
        requests = Requests(secret, list(reps.values()), targets)
        log_path = os.path.join(tempfile.gettempdir(), f"leadflow-bench-handoff-api-{os.getpid()}.log")
        server, base = serve(engine, bootstrap, secret, log_path)
        try:
            context = multiprocessing.get_context("spawn")
            results = context.Queue()
            loader = context.Process(target=load, args=(base, server.pid, requests, args, results))
            loader.start()
            measured: dict[str, tuple[OpenLoop, ClosedLoop, float]] = {}
            while (result := results.get(timeout=3600)) is not None:
                measured[result[0]] = result[1:]
            loader.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
        _report(measured, args)
        print(f"  server log: {log_path}")


def _report(measured: dict[str, tuple[OpenLoop, ClosedLoop, float]], args: argparse.Namespace) -> None:
    noop_rps = measured["health"][1].rps
    rows = []
    labels = {"health": "GET /health (no-op)", "queue": "GET /v1/handoffs (50)", "accept": "POST .../accept"}
    for name, (latency, throughput, cpu_ms) in measured.items():
        failures = {**latency.failures, **{f"closed {k}": v for k, v in throughput.failures.items()}}
        rows.append(
            (
                labels[name],
                f"p50 {latency.p50_ms:6.1f} ms  p99 {latency.p99_ms:6.1f} ms  (max {latency.max_ms:.0f}; "
                f"{latency.achieved:.0f} req/s achieved of {latency.offered:.0f})  |  closed loop "
                f"{throughput.rps:7.0f} req/s = {throughput.rps / noop_rps:.2f} of no-op; "
                f"server CPU {cpu_ms:.1f} ms/req" + (f"  failures {json.dumps(failures)}" if failures else ""),
            )
        )
    print(
        f"  open loop: {args.open_count} requests at {args.rate:g}/s; closed loop: {args.concurrency} in flight, "
        f"{args.seconds:g} s; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )
    report(rows)
    print("  server CPU: the uvicorn process alone (PostgreSQL's backends not counted); 1000 / it is the ceiling of")
    print("  one process on a core of its own. On a shared, busy machine the latencies say more about the machine.")


if __name__ == "__main__":
    random.seed(1)
    main()
