"""Setting and cancelling timers, inside the caller's unit of work: a timer exists exactly when its cause commits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from eventlog.unit_of_work import UnitOfWork
from events.envelope import utc_now
from timers.models import TimerRecord

_TEXT_LIMITS = {"owner": 100, "kind": 100, "key": 320}


def schedule(
    uow: UnitOfWork, *, owner: str, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None
) -> None:
    """Set `owner`'s timer `key` to fire `kind` at `due_at`; a timer of the same key is moved (and re-armed)."""
    schedule_many(uow, owner=owner, kind=kind, timers=[(key, due_at, payload)])


def schedule_many(
    uow: UnitOfWork, *, owner: str, kind: str, timers: Sequence[tuple[str, datetime, dict[str, Any] | None]]
) -> None:
    """`schedule` for many keys of one owner and kind, `(key, due_at, payload)` each, in few statements."""
    latest = {key: (due_at, payload) for key, due_at, payload in timers}  # a key given twice: the last one holds
    now = utc_now()
    rows = []
    for key, (due_at, payload) in latest.items():
        _check(owner=owner, kind=kind, key=key, due_at=due_at, payload=payload)
        rows.append(
            {
                "owner": owner,
                "kind": kind,
                "key": key,
                "due_at": due_at,
                "payload": payload or {},
                "created_at": now,
                "fired_at": None,
            }
        )
    if not rows:
        return
    dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(TimerRecord)
    moved = {name: statement.excluded[name] for name in ("kind", "due_at", "payload", "fired_at")}
    # One statement, compiled once, run for every row (the driver sends them together).
    uow.session.execute(statement.on_conflict_do_update(index_elements=["owner", "key"], set_=moved), rows)


def cancel(uow: UnitOfWork, *, owner: str, key: str) -> bool:
    """Remove `owner`'s timer `key`; whether one was still pending."""
    statement = (
        delete(TimerRecord).where(TimerRecord.owner == owner, TimerRecord.key == key).returning(TimerRecord.fired_at)
    )
    return any(fired_at is None for fired_at in uow.session.execute(statement).scalars())


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
