"""Setting and cancelling timers, inside the caller's unit of work: a timer exists exactly when its cause commits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from database.queries import among
from eventlog.unit_of_work import UnitOfWork
from events.envelope import utc_now
from timers.models import TimerRecord

_TEXT_LIMITS = {"owner": 100, "kind": 100, "key": 320}


@dataclass(frozen=True)
class Due:
    """One timer to set: `owner`'s timer `key` fires `kind` at `due_at` with `payload`."""

    owner: str
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any] | None = None


def schedule(
    uow: UnitOfWork, *, owner: str, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None
) -> None:
    """Set `owner`'s timer `key` to fire `kind` at `due_at`; a timer of the same key is moved (and re-armed)."""
    schedule_many(uow, [Due(owner, kind, key, due_at, payload)])


def schedule_many(uow: UnitOfWork, timers: Sequence[Due]) -> None:
    """Set many timers in one statement (a batch's), as `schedule` sets one; a key given twice: the last holds."""
    latest = {(timer.owner, timer.key): timer for timer in timers}  # one statement may not touch a row twice
    if not latest:
        return
    now = utc_now()
    values = []
    for timer in latest.values():
        _check(owner=timer.owner, kind=timer.kind, key=timer.key, due_at=timer.due_at, payload=timer.payload)
        values.append(
            {
                "owner": timer.owner,
                "kind": timer.kind,
                "key": timer.key,
                "due_at": timer.due_at,
                "payload": timer.payload or {},
                "created_at": now,
                "fired_at": None,
            }
        )
    dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(TimerRecord.__table__)
    moved = {name: statement.excluded[name] for name in ("kind", "due_at", "payload", "fired_at")}
    uow.session.flush()  # the timers may name rows the session has yet to write
    # One statement compiled once, its rows sent in batches (insertmanyvalues), whatever their number.
    uow.session.connection().execute(
        statement.on_conflict_do_update(index_elements=["owner", "key"], set_=moved), values
    )


def cancel(uow: UnitOfWork, *, owner: str, key: str) -> bool:
    """Remove `owner`'s timer `key`; whether one was still pending."""
    return cancel_many(uow, owner=owner, keys=[key]) > 0


def cancel_many(uow: UnitOfWork, *, owner: str, keys: Sequence[str]) -> int:
    """Remove `owner`'s timers of `keys` in one statement; how many were still pending."""
    if not keys:
        return 0
    statement = (
        delete(TimerRecord)
        .where(TimerRecord.owner == owner, among(uow.session, TimerRecord.key, list(keys)))
        .returning(TimerRecord.fired_at)
    )
    return sum(1 for fired_at in uow.session.execute(statement).scalars() if fired_at is None)


def _check(*, owner: str, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None) -> None:
    """Refuse a timer the scheduler could not store or fire, naming the field and the reason."""
    for field, value in {"owner": owner, "kind": kind, "key": key}.items():
        if not value or len(value) > _TEXT_LIMITS[field]:
            raise ValueError(f"timer: `{field}` must be 1 to {_TEXT_LIMITS[field]} characters (got {value!r})")
    where = f"timer {owner}/{key}"
    if due_at.tzinfo is None or due_at.utcoffset() is None:
        raise ValueError(f"{where}: `due_at` must be timezone-aware (got {due_at!r})")
    if payload is not None:
        if not isinstance(payload, dict):
            raise ValueError(f"{where}: `payload` must be a JSON object (got {type(payload).__name__})")
        try:
            json.dumps(payload)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: `payload` must be JSON-serialisable ({error})") from error
