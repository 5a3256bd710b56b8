"""Where a lead goes after a step: the next step, or, for a wait-for-engagement branch, by what it did. Pure.

As Mautic's decision with a delay on the no-action path: engaging with the step's content within the window
goes on at once (the next step's wait starts at the engagement); no engagement by the deadline takes the
alternate step (its wait starts at the deadline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.nurture.tracks.compiled import CompiledStep

Outcome = Literal["next", "engaged", "not_engaged", "waiting"]


@dataclass(frozen=True)
class AfterStep:
    """The outcome, the step to take next (None: the track is finished), and when its wait starts.

    While `waiting`, `next_step` is None and `since` is the deadline: the time to look again.
    """

    outcome: Outcome
    next_step: int | None
    since: datetime


def after_step(step: CompiledStep, acted_at: datetime, engaged_at: datetime | None, now: datetime) -> AfterStep:
    """Where the lead goes after `step`'s action at `acted_at`, given its first engagement with the content."""
    if step.branch is None:
        return AfterStep("next", step.next, acted_at)
    deadline = acted_at + step.branch.within
    if engaged_at is not None and acted_at <= engaged_at <= deadline:
        return AfterStep("engaged", step.next, engaged_at)
    if now >= deadline:
        return AfterStep("not_engaged", step.branch.otherwise, deadline)
    return AfterStep("waiting", None, deadline)
