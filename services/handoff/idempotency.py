"""Idempotency-Key on every POST: the first answer is kept with the request's fingerprint, in the transaction of
its effect; a retry with the same key gets that answer again and changes nothing, a different request under the
same key is refused (422)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.handoff.models import StoredAnswer

Answer = tuple[int, dict[str, Any], dict[str, str]]  # status, body, headers
MAX_KEY = 200


class KeyReused(ValueError):  # noqa: N818 - an outcome the API answers with 422
    """The key was used before for a different request."""


@dataclass(frozen=True)
class Replay:
    """A request's Idempotency-Key, its caller, and the fingerprint of what it asks."""

    subject: str
    key: str
    request: str
    at: datetime

    def first(self, session: Session) -> Answer | None:
        """The answer kept for this key, or None; KeyReused if the key was used for another request."""
        row = session.get(StoredAnswer, (self.subject, self.key))
        if row is None:
            return None
        if row.request != self.request:
            raise KeyReused(f"this Idempotency-Key was used for a different request at {row.created_at.isoformat()}")
        return row.status_code, row.body, row.headers


def replay_of(subject: str, key: str, method: str, path: str, body: str, at: datetime) -> Replay:
    """The replay record of a request (the body as canonical JSON)."""
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise KeyReused(f"Idempotency-Key must be 1 to {MAX_KEY} printable characters")
    fingerprint = hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()
    return Replay(subject, key, fingerprint, at)


def keep(session: Session, replay: Replay, answer: Answer) -> None:
    """Keep the answer under its key; a concurrent request with the same key fails here (IntegrityError)."""
    status, body, headers = answer
    session.add(
        StoredAnswer(
            subject=replay.subject,
            key=replay.key,
            request=replay.request,
            status_code=status,
            body=body,
            headers=headers,
            created_at=replay.at,
        )
    )
    session.flush()
