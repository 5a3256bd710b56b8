"""Heartbeats: what each background loop says of itself, so that readiness can name a loop that is stuck."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Heartbeat:
    """When a loop last made progress, and what it has been busy with since when (monotonic seconds)."""

    name: str
    last_progress: float = field(default_factory=time.monotonic)
    busy_with: str | None = None
    busy_since: float | None = None
    waiting_for: str | None = None
    """Work that is there but not moving (rows pending, for the relay); None when there is none."""

    def busy(self, what: str) -> None:
        """Work on `what` begins; if it is the same work as before (a retry), the clock keeps running."""
        if what != self.busy_with:
            self.busy_with, self.busy_since = what, time.monotonic()

    def progressed(self) -> None:
        """The work in hand is done (or there was none)."""
        self.busy_with = self.busy_since = self.waiting_for = None
        self.last_progress = time.monotonic()

    def waiting(self, what: str) -> None:
        """Work is pending but this round moved none of it."""
        self.waiting_for = what

    def problem(self, stuck_after_s: float, now: float | None = None) -> str | None:
        """Why this loop is not healthy, or None: busy on the same work, or idle with work pending, too long."""
        now = time.monotonic() if now is None else now
        if self.busy_since is not None and now - self.busy_since > stuck_after_s:
            return f"{self.name}: stuck for {now - self.busy_since:.0f} s on {self.busy_with}"
        if self.waiting_for is not None and now - self.last_progress > stuck_after_s:
            return f"{self.name}: no progress for {now - self.last_progress:.0f} s with {self.waiting_for}"
        return None
