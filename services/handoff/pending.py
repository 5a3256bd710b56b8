"""New rows a unit of work keeps in memory and stores at its end: one Core insert per table (and set of columns),
not one ORM insert per row. No commits.

A row kept here is invisible to queries until `write`: only rows nothing reads back before the end are kept here
(a batch's new handoffs, contacts and accounts, its routing decisions and assignments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Table, insert, inspect
from sqlalchemy.orm import Session

from services.handoff.base import Base


@dataclass
class PendingRows:
    """Rows to insert, by table, in the order they came; a row object may change until `write`."""

    _rows: dict[Table, list[dict[str, Any] | Base]] = field(default_factory=dict)

    def insert(self, model: type[Base], values: dict[str, Any]) -> None:
        """A new row of `model`, as its columns' values."""
        self._rows.setdefault(_table(model), []).append(values)

    def add(self, row: Base) -> None:
        """A new row object, never added to the session: its values are read when written."""
        self._rows.setdefault(_table(type(row)), []).append(row)

    def write(self, session: Session) -> None:
        """Insert the pending rows, in one statement per table and set of columns given."""
        connection = session.connection()
        for table, rows in self._rows.items():
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in rows:
                values = row if isinstance(row, dict) else _values(row)
                groups.setdefault(tuple(values), []).append(values)
            for group in groups.values():
                connection.execute(insert(table), group)
        self._rows = {}


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # every model of handoff maps one table
    return table


def _values(row: Base) -> dict[str, Any]:
    # Only the attributes that were set, as the ORM's insert does: an unset JSON column stays SQL NULL, not 'null'.
    state = row.__dict__
    return {key: state[key] for key in _columns(type(row)) if key in state}


@cache
def _columns(model: type[Base]) -> tuple[str, ...]:
    return tuple(attribute.key for attribute in inspect(model).column_attrs)
