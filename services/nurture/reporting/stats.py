"""Figures of a track from its enrollments and their steps: pure arithmetic over plain rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

DAY_S = 86_400.0


@dataclass(frozen=True)
class EnrollmentFacts:
    """What the figures need of one enrollment."""

    status: str
    exit_reason: str | None
    enrolled_at: datetime
    mql_at: datetime | None  # the contact's latest qualification, if any


@dataclass(frozen=True)
class StepFacts:
    """What the figures need of one step that came due."""

    step: int
    step_id: str
    outcome: str
    engaged: bool


@dataclass(frozen=True)
class StepEngagement:
    """How one step did: actions sent, how many the contact engaged with, and the share."""

    step: int
    step_id: str
    sent: int
    engaged: int
    skipped: int
    deferred: int

    @property
    def engagement_rate(self) -> float | None:
        """Engaged over sent; None while nothing was sent."""
        return round(self.engaged / self.sent, 4) if self.sent else None


@dataclass(frozen=True)
class TrackFigures:
    """A track's figures: enrolled, active, exits by reason, qualification after nurture, engagement per step."""

    enrolled: int
    active: int
    exited: dict[str, int]
    qualified_after_nurture: int
    share_qualified: float | None
    median_days_to_mql: float | None
    steps: list[StepEngagement] = field(default_factory=list)


def figures(enrollments: Iterable[EnrollmentFacts], steps: Sequence[StepFacts]) -> TrackFigures:
    """The figures of a track: an enrollment counts as qualified after nurture if its contact qualified after
    entering (whether it exited "qualified" or qualified after the track ended)."""
    rows = list(enrollments)
    exited = Counter(row.exit_reason or "unknown" for row in rows if row.status != "active")
    days = [
        (row.mql_at - row.enrolled_at).total_seconds() / DAY_S
        for row in rows
        if row.mql_at is not None and row.mql_at >= row.enrolled_at
    ]
    return TrackFigures(
        enrolled=len(rows),
        active=sum(1 for row in rows if row.status == "active"),
        exited=dict(sorted(exited.items())),
        qualified_after_nurture=len(days),
        share_qualified=round(len(days) / len(rows), 4) if rows else None,
        median_days_to_mql=round(median(days), 2) if days else None,
        steps=per_step(steps),
    )


def per_step(steps: Sequence[StepFacts]) -> list[StepEngagement]:
    """Sent, engaged, skipped and deferred counts per step, in step order."""
    tallies: dict[tuple[int, str], Counter[str]] = {}
    for fact in steps:
        tally = tallies.setdefault((fact.step, fact.step_id), Counter())
        tally[fact.outcome] += 1
        if fact.outcome == "sent" and fact.engaged:
            tally["engaged"] += 1
    return [
        StepEngagement(
            step=number,
            step_id=step_id,
            sent=tally["sent"],
            engaged=tally["engaged"],
            skipped=tally["skipped"],
            deferred=tally["deferred"],
        )
        for (number, step_id), tally in sorted(tallies.items())
    ]
