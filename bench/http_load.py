"""HTTP load from its own process: open loop at a fixed offered rate (latency), closed loop at full speed
(throughput). Each request is made by a callable that returns (method, path, headers, body) for call n.

Open-loop latency is measured from the time a request was due to be sent, not from when it was sent, so a
server that falls behind shows it in the figures (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

Request = tuple[str, str, dict[str, str], Any]  # method, path, headers, JSON body or None
MakeRequest = Callable[[int], Request]
OK = frozenset({200})


@dataclass(frozen=True)
class OpenLoop:
    """Latencies at an offered rate: percentiles in ms, the rate achieved, and the failures by status."""

    offered: float
    sent: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    achieved: float
    failures: dict[str, int]


@dataclass(frozen=True)
class ClosedLoop:
    """Requests per second with `concurrency` requests always in flight, and the failures by status."""

    concurrency: int
    completed: int
    rps: float
    p50_ms: float
    failures: dict[str, int]


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far: a cost that does not depend on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (share 0.99 for p99)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def _send(client: httpx.AsyncClient, request: Request, failures: dict[str, int], ok: frozenset[int]) -> bool:
    method, path, headers, body = request
    try:
        answer = await client.request(method, path, headers=headers, json=body)
    except httpx.HTTPError as error:
        failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1
        return False
    if answer.status_code not in ok:
        failures[str(answer.status_code)] = failures.get(str(answer.status_code), 0) + 1
        return False
    return True


def _client(base_url: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0)


async def _open_loop(base_url: str, make: MakeRequest, rate: float, count: int, ok: frozenset[int]) -> OpenLoop:
    failures: dict[str, int] = {}
    latencies: list[float] = []
    async with _client(base_url, 256) as client:

        async def one(n: int, due: float) -> None:
            if await _send(client, make(n), failures, ok):
                latencies.append(time.perf_counter() - due)

        started = time.perf_counter()
        tasks = []
        for n in range(count):
            due = started + n / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(n, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    ms = [latency * 1000 for latency in latencies]
    return OpenLoop(
        rate, count, percentile(ms, 0.5), percentile(ms, 0.99), max(ms, default=float("nan")), count / elapsed, failures
    )


async def _closed_loop(
    base_url: str, make: MakeRequest, concurrency: int, seconds: float, ok: frozenset[int]
) -> ClosedLoop:
    failures: dict[str, int] = {}
    latencies: list[float] = []
    counter = iter(range(10**9))
    async with _client(base_url, concurrency) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while (now := time.perf_counter()) < deadline:
                n = next(counter)
                try:
                    request = make(n)
                except IndexError:  # the caller ran out of distinct targets
                    return
                if await _send(client, request, failures, ok):
                    latencies.append(time.perf_counter() - now)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = [latency * 1000 for latency in latencies]
    return ClosedLoop(concurrency, len(ms), len(ms) / elapsed, percentile(ms, 0.5), failures)


def open_loop(base_url: str, make: MakeRequest, rate: float, count: int, ok: frozenset[int] = OK) -> OpenLoop:
    """Send `count` requests at `rate` per second, whatever the answers' pace."""
    return asyncio.run(_open_loop(base_url, make, rate, count, ok))


def closed_loop(
    base_url: str,
    make: MakeRequest,
    concurrency: int,
    seconds: float,
    ok: frozenset[int] = OK,
) -> ClosedLoop:
    """Keep `concurrency` requests in flight for `seconds` (or until `make` raises IndexError)."""
    return asyncio.run(_closed_loop(base_url, make, concurrency, seconds, ok))
