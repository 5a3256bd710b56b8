"""Bearer tokens: a subject and a role, signed with the deployment's secret (HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

Role = Literal["rep", "manager", "marketing_ops", "sales_ops", "marketing_automation", "admin"]
ROLES: tuple[str, ...] = get_args(Role)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a named person or system, and their role."""

    subject: str
    role: str


class InvalidToken(Exception):  # noqa: N818 - reads as what it is
    """A token that is malformed, forged, expired or names an unknown role."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def issue_token(secret: str, subject: str, role: str, expires_at: datetime | None = None) -> str:
    """A token for `subject` acting as `role`."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    claims: dict[str, str | int] = {"sub": subject, "role": role}
    if expires_at is not None:
        claims["exp"] = int(expires_at.timestamp())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"lf1.{payload}.{_signature(secret, payload)}"


def verify_token(secret: str, token: str, now: datetime) -> Principal:
    """The principal a token names, or `InvalidToken` saying why not."""
    try:
        version, payload, signature = token.split(".")
    except ValueError:
        raise InvalidToken("malformed token") from None
    if version != "lf1" or not hmac.compare_digest(signature, _signature(secret, payload)):
        raise InvalidToken("bad signature")
    claims = json.loads(_unb64(payload))
    if "exp" in claims and now.timestamp() >= claims["exp"]:
        raise InvalidToken("token expired")
    if claims.get("role") not in ROLES:
        raise InvalidToken(f"unknown role {claims.get('role')!r}")
    return Principal(subject=str(claims["sub"]), role=str(claims["role"]))
