"""Webhook signatures of marketing automation, checked when a secret is configured: Mautic's `Webhook-Signature`
and HubSpot's `X-HubSpot-Signature-v3`. Each refusal names the header and the reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from urllib.parse import unquote

# HubSpot signs the URI with these characters decoded, and only these (its "validate requests" guide).
_HUBSPOT_DECODED = ("%3A", "%2F", "%3F", "%40", "%21", "%24", "%27", "%28", "%29", "%2A", "%2C", "%3B")
MAX_AGE_MS = 5 * 60 * 1000


class SignatureRefused(Exception):  # noqa: N818 - a refusal is an outcome
    """A webhook whose signature is missing, wrong or stale; `header` is the field at fault."""

    def __init__(self, header: str, reason: str) -> None:
        super().__init__(f"{header}: {reason}")
        self.header = header
        self.reason = reason


def _hmac_base64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify_mautic(raw_body: bytes, signature: str | None, secret: str) -> None:
    """Mautic signs the raw body: base64 of its HMAC-SHA256 under the webhook's secret."""
    header = "Webhook-Signature"
    if not signature:
        raise SignatureRefused(header, "is missing: a secret is configured (LEADFLOW_MAUTIC_WEBHOOK_SECRET)")
    if not hmac.compare_digest(signature.strip(), _hmac_base64(secret, raw_body)):
        raise SignatureRefused(header, "does not match the body under the configured secret")


def hubspot_uri(url: str) -> str:
    """The request URI as HubSpot signs it: a few percent-encoded characters decoded, the others kept."""
    for encoded in _HUBSPOT_DECODED:
        url = url.replace(encoded, unquote(encoded)).replace(encoded.lower(), unquote(encoded))
    return url


def verify_hubspot_v3(
    *,
    method: str,
    uri: str,
    raw_body: bytes,
    timestamp: str | None,
    signature: str | None,
    secret: str,
    now: datetime,
) -> None:
    """HubSpot's v3 signature: base64 HMAC-SHA256 of method + URI + body + timestamp; older than 5 minutes fails."""
    header = "X-HubSpot-Signature-v3"
    if not signature:
        raise SignatureRefused(header, "is missing: a secret is configured (LEADFLOW_HUBSPOT_CLIENT_SECRET)")
    stamp = "X-HubSpot-Request-Timestamp"
    if not timestamp or not timestamp.strip().isdigit():
        raise SignatureRefused(stamp, f"must be milliseconds since 1970 (got {timestamp!r})")
    age_ms = now.timestamp() * 1000 - int(timestamp)
    if age_ms > MAX_AGE_MS:
        raise SignatureRefused(stamp, f"is {age_ms / 60_000:.0f} minutes old: older than 5 minutes is refused")
    message = method.upper().encode() + hubspot_uri(uri).encode() + raw_body + timestamp.strip().encode()
    if not hmac.compare_digest(signature.strip(), _hmac_base64(secret, message)):
        raise SignatureRefused(header, "does not match the request under the configured secret")
