"""Sending one delivery: a signed, structured CloudEvent POSTed over HTTP, to a host checked again at sending time."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from math import floor
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from services.webhooks.domain import Attempt, Outgoing, address_problem, forbidden_addresses

CONTENT_TYPE = "application/cloudevents+json"
USER_AGENT = "leadflow-webhooks/1"
_KEPT_BODY = 300  # of a failed answer, enough to say why, not a whole error page

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def host_problem(url: str, resolver: Resolver = resolve) -> str | None:
    """Why `url`'s host is not a safe place to send to (it resolves to a non-global address), or None."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = resolver(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as error:
        return f"{host} does not resolve ({error})"
    return forbidden_addresses(host, addresses)


def signature_headers(outgoing: Outgoing, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: the event id, the time, and a v1 signature per signing secret."""
    moment = datetime.fromtimestamp(floor(now.timestamp()), tz=UTC)
    body = outgoing.body.decode()
    signatures = [Webhook(secret).sign(outgoing.event_id, moment, body) for secret in outgoing.secrets]
    return {
        "webhook-id": outgoing.event_id,
        "webhook-timestamp": str(floor(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


class Sender:
    """POSTs deliveries. With `guard` on (production), the host is resolved and checked before every request, and
    the request goes to the address checked (the name kept for Host and TLS), so DNS cannot change in between."""

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        guard: bool = False,
        resolver: Resolver = resolve,
        allowed: Callable[[str], str | None] = address_problem,
    ) -> None:
        self._clients: dict[str, httpx.Client] = {}
        self._clients_lock = threading.Lock()
        self._timeout_s = timeout_s
        self._guard = guard
        self._resolver = resolver
        self._allowed = allowed

    def send(self, outgoing: Outgoing, now: datetime) -> Attempt:
        """POST one delivery; what came of it (never raises for what the network or the receiver does)."""
        headers = {"content-type": CONTENT_TYPE, **signature_headers(outgoing, now)}
        url, extensions = outgoing.url, dict[str, str]()
        if self._guard:
            pinned = self._pin(outgoing.url)
            if isinstance(pinned, Attempt):
                return pinned
            url, host_header, extensions = pinned
            headers["host"] = host_header
        try:
            client = self._client(urlsplit(outgoing.url).hostname or "")
            response = client.post(url, content=outgoing.body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            return Attempt(None, f"no answer within {self._timeout_s:g} s")
        except httpx.HTTPError as error:
            return Attempt(None, f"{type(error).__name__}: {error}"[:_KEPT_BODY])
        if response.is_success:
            return Attempt(response.status_code)
        return Attempt(
            response.status_code,
            f"HTTP {response.status_code}: {response.text[:_KEPT_BODY]}",
            retry_after=response.headers.get("retry-after"),
        )

    def _pin(self, url: str) -> tuple[str, str, dict[str, str]] | Attempt:
        parts = httpx.URL(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = self._resolver(parts.host, port)
        except OSError as error:
            return Attempt(None, f"{parts.host} does not resolve ({error})")
        for address in addresses:
            problem = self._allowed(address)
            if problem:
                return Attempt(None, f"refused: {parts.host} resolves to a forbidden address: {problem}", refused=True)
        if not addresses:
            return Attempt(None, f"{parts.host} does not resolve")
        host_header = parts.host if parts.port is None else f"{parts.host}:{parts.port}"
        pinned = str(parts.copy_with(host=addresses[0]))
        return pinned, host_header, {"sni_hostname": parts.host}

    def _client(self, host: str) -> httpx.Client:
        # A pool per host name: with pinned addresses, a connection made (and TLS checked) for one name must never
        # carry a request for another name that happens to resolve to the same address.
        with self._clients_lock:
            client = self._clients.get(host)
            if client is None:
                client = httpx.Client(
                    timeout=self._timeout_s, follow_redirects=False, headers={"user-agent": USER_AGENT}
                )
                self._clients[host] = client
            return client

    def close(self) -> None:
        """Close the connection pools."""
        with self._clients_lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
