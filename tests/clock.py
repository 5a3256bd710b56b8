"""The clock tests set: schedulers and dispatchers read it instead of the wall clock. No test sleeps for time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test sets and moves; reading it is a call, as the code under test expects."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)
