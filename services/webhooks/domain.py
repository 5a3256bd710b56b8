"""Webhook decisions, pure: what an answer means, when to try again, which delivery may go next, which URL is safe."""

from __future__ import annotations

import base64
import ipaddress
import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

FIRST_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
SECRET_PREFIX = "whsec_"

Status = Literal["pending", "delivered", "dead"]
Verdict = Literal["delivered", "retry", "dead"]


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: an HTTP status, or none (timeout, connection error, address refused)."""

    status_code: int | None
    error: str | None = None
    retry_after: str | None = None
    refused: bool = False
    """The sender would not send (the URL's host resolves to a forbidden address): no retry helps."""


@dataclass(frozen=True)
class Next:
    """A delivery after an attempt: its status, when to try again (pending only), and what to show of it."""

    status: Status
    attempts: int
    next_attempt_at: datetime | None
    last_response_code: int | None
    last_error: str | None


def classify(attempt: Attempt) -> Verdict:
    """2xx is delivered; timeouts, connection errors, 408, 429 and 5xx are worth another try; the rest is dead."""
    code = attempt.status_code
    if attempt.refused:
        return "dead"
    if code is None:
        return "retry"
    if 200 <= code < 300:
        return "delivered"
    if code in (408, 429) or code >= 500:
        return "retry"
    return "dead"  # other 4xx: the receiver will say the same again; 3xx: redirects are not followed


def backoff(attempts: int, jitter: float) -> timedelta:
    """The wait after the `attempts`-th failure: full jitter (`jitter` in [0, 1)) under 5 s doubling, capped 1 h."""
    ceiling = min(MAX_DELAY, FIRST_DELAY * 2 ** min(max(attempts - 1, 0), 20))
    delay: timedelta = ceiling * jitter
    return delay


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """The wait a `Retry-After` header asks for (seconds or an HTTP date), or None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(timedelta(0), when - now)


def after_attempt(*, attempts: int, first_attempt_at: datetime, attempt: Attempt, now: datetime, jitter: float) -> Next:
    """The delivery's next state after `attempt`, its `attempts`-th counting this one, made at `now`."""
    verdict = classify(attempt)
    shown = attempt.error
    if verdict == "delivered":
        return Next("delivered", attempts, None, attempt.status_code, None)
    if verdict == "dead":
        return Next("dead", attempts, None, attempt.status_code, shown)
    deadline = first_attempt_at + GIVE_UP_AFTER
    asked = retry_after(attempt.retry_after, now) if attempt.status_code in (408, 429, 503) else None
    if now >= deadline:
        return Next("dead", attempts, None, attempt.status_code, f"gave up after {attempts} attempts in 24 h: {shown}")
    if asked is not None:
        if now + asked > deadline:
            reason = f"Retry-After {asked.total_seconds():.0f} s is past the 24 h window: {shown}"
            return Next("dead", attempts, None, attempt.status_code, reason)
        return Next("pending", attempts, now + asked, attempt.status_code, shown)
    # The last try is made at the deadline itself, so a receiver back just before it still gets the event.
    return Next("pending", attempts, min(now + backoff(attempts, jitter), deadline), attempt.status_code, shown)


@dataclass(frozen=True)
class Candidate:
    """A due delivery at the head of its line: the earliest pending one of its (subscription, account key)."""

    id: int
    subscription_id: uuid.UUID
    account_key: str


def choose(
    candidates: Sequence[Candidate],
    *,
    in_flight: Iterable[tuple[uuid.UUID, str]],
    per_subscription: int,
) -> list[Candidate]:
    """The candidates to send now, in the order given: one per line, none of a line already in flight, and at most
    `per_subscription` in flight per subscription, so that a slow subscriber keeps a few threads, never all."""
    busy_lines = set(in_flight)
    load = Counter(subscription for subscription, _ in busy_lines)
    chosen = []
    for candidate in candidates:
        line = (candidate.subscription_id, candidate.account_key)
        if line in busy_lines or load[candidate.subscription_id] >= per_subscription:
            continue
        busy_lines.add(line)
        load[candidate.subscription_id] += 1
        chosen.append(candidate)
    return chosen


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook endpoint, or None: only absolute http(s) URLs with a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it validates it
    except ValueError as error:
        return f"not a valid URL ({error})"
    if parts.scheme not in ("http", "https"):
        return f"the scheme must be http or https (got {parts.scheme or 'none'!r})"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "credentials in the URL are not allowed; the signature authenticates leadflow"
    return None


def address_problem(address: str) -> str | None:
    """Why a webhook must not go to `address` (loopback, private, link-local, ... : not global), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flagged in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
    ):
        if flagged:
            return f"{address} is a {kind} address"
    if not ip.is_global:
        return f"{address} is not a global address"
    return None


def forbidden_addresses(host: str, addresses: Collection[str]) -> str | None:
    """Why `host`, resolving to `addresses`, is refused (the first non-global address), or None."""
    if not addresses:
        return f"{host} does not resolve"
    for address in addresses:
        problem = address_problem(address)
        if problem:
            return f"{host} resolves to {problem}"
    return None


def unknown_types(requested: Iterable[str], deliverable: Collection[str]) -> list[str]:
    """The requested event types that are not delivered over webhooks, in the order asked."""
    return [name for name in requested if name not in deliverable]


def format_secret(raw: bytes) -> str:
    """A signing secret in the Standard Webhooks form: `whsec_` and the base64 of its bytes."""
    if len(raw) < 24:
        raise ValueError(f"a webhook secret needs at least 24 random bytes (got {len(raw)})")
    return SECRET_PREFIX + base64.b64encode(raw).decode()


@dataclass(frozen=True)
class Outgoing:
    """A delivery claimed for sending: where, what, and the secrets to sign it with (newest first)."""

    delivery_id: int
    subscription_id: uuid.UUID
    account_key: str
    url: str
    event_id: str
    body: bytes
    secrets: tuple[str, ...] = field(repr=False)


def signing_secrets(
    secret: str, previous: str | None, previous_until: datetime | None, now: datetime
) -> tuple[str, ...]:
    """The secrets a delivery is signed with: the current one, and the previous one for a day after a rotation."""
    if previous is not None and previous_until is not None and now < previous_until:
        return (secret, previous)
    return (secret,)
