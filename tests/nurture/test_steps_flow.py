"""A due step as the flow takes it (steps.domain over the tracks' decisions), against hand-computed schedules.

T0 is Monday 2 November 2026, 09:00 UTC (10:00 in Paris). The track: welcome at once, the guide 2 business days
later at 10:00 with a 5-day engagement window (else the ad reminder, at once), then the case study 3 days on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.nurture.steps.domain import ACTION, BRANCH, DONE, Fired, Position, engaged, fire
from services.nurture.tracks.matching import LeadProfile
from tests.clock import T0
from tests.nurture.builders import settings, track, track_doc

PARIS = ZoneInfo("Europe/Paris")
DAY = timedelta(days=1)
LEAD = LeadProfile(stage="raw", email="dana@acme-robotics.com", time_zone="Europe/Paris")
TRACK, SETTINGS = track(), settings()


def _outcomes(fired: Fired) -> list[tuple[str, str]]:
    return [(run.step.id, run.outcome) for run in fired.runs]


def test_a_step_with_a_branch_waits_for_engagement_until_its_deadline() -> None:
    fired = fire(TRACK, SETTINGS, position=Position(2, ACTION, T0), lead=LEAD, now=T0, sends={})
    assert (_outcomes(fired), fired.position) == ([("guide", "sent")], Position(2, BRANCH, T0 + 5 * DAY))


def test_no_engagement_by_the_deadline_takes_the_alternate_step() -> None:
    deadline = T0 + 5 * DAY
    fired = fire(TRACK, SETTINGS, position=Position(2, BRANCH, deadline), lead=LEAD, now=deadline, sends={})
    assert (_outcomes(fired), fired.position) == ([("guide", "branched")], Position(4, ACTION, deadline))


def test_engaging_within_the_window_goes_on_from_the_engagement_and_late_engagement_changes_nothing() -> None:
    waiting = Position(2, BRANCH, T0 + 5 * DAY)
    clicked = T0 + 2 * DAY
    moved = engaged(TRACK, position=waiting, step=2, acted_at=T0, at=clicked, zone=PARIS)
    assert moved == Position(3, ACTION, clicked + 3 * DAY)
    assert engaged(TRACK, position=waiting, step=2, acted_at=T0, at=T0 + 6 * DAY, zone=PARIS) is None
    assert engaged(TRACK, position=waiting, step=1, acted_at=T0, at=clicked, zone=PARIS) is None


def test_a_step_fired_late_starts_the_next_wait_from_the_firing_not_from_its_due_time() -> None:
    thursday = T0 + 3 * DAY  # an outage: the welcome was due on Monday
    fired = fire(TRACK, SETTINGS, position=Position(1, ACTION, T0), lead=LEAD, now=thursday, sends={})
    # Thursday 10:00 Paris + 2 business days = Monday 9 November, 10:00 Paris (09:00 UTC).
    assert fired.position == Position(2, ACTION, datetime(2026, 11, 9, 9, tzinfo=UTC))


def test_an_email_at_night_is_deferred_to_the_morning_and_says_why() -> None:
    night = datetime(2026, 11, 2, 20, 30, tzinfo=UTC)  # 21:30 in Paris
    fired = fire(TRACK, SETTINGS, position=Position(1, ACTION, night), lead=LEAD, now=night, sends={})
    [run] = fired.runs
    morning = datetime(2026, 11, 3, 7, tzinfo=UTC)  # 08:00 in Paris
    assert (run.outcome, run.detail, run.deferred_until) == ("deferred", "quiet 20:00-08:00 Europe/Paris", morning)
    assert fired.position == Position(1, ACTION, morning)


def test_a_third_email_in_seven_days_waits_for_the_first_to_leave_the_window() -> None:
    sent = {"email": [T0 - 6 * DAY, T0 - DAY]}
    fired = fire(TRACK, SETTINGS, position=Position(1, ACTION, T0), lead=LEAD, now=T0, sends=sent)
    assert fired.position == Position(1, ACTION, T0 + DAY)
    assert fired.runs[0].detail == "at most 2 email in 7 days"


def test_a_skipped_step_passes_to_the_next_whose_wait_counts_from_now() -> None:
    doc = track_doc()
    doc["steps"][0]["skip_if"] = {"engaged_with": ["welcome-email"]}
    skipping = track(steps=doc["steps"])
    lead = LeadProfile(stage="raw", email="dana@acme-robotics.com", engaged_content=frozenset({"welcome-email"}))
    fired = fire(skipping, SETTINGS, position=Position(1, ACTION, T0), lead=lead, now=T0, sends={})
    assert (_outcomes(fired), fired.position) == ([("welcome", "skipped")], Position(2, ACTION, T0 + 2 * DAY))


@pytest.mark.parametrize(
    ("lead", "reason"),
    [
        (LeadProfile(stage="raw"), "unreachable"),
        (LeadProfile(stage="raw", email="dana@acme-robotics.com", marketing_consent=False), "unsubscribed"),
        (LeadProfile(stage="raw", erased_at=T0), "erased"),
    ],
)
def test_a_contact_that_may_not_be_reached_gets_nothing_and_leaves(lead: LeadProfile, reason: str) -> None:
    fired = fire(TRACK, SETTINGS, position=Position(1, ACTION, T0), lead=lead, now=T0, sends={})
    assert (_outcomes(fired), fired.position, fired.exit_reason) == ([("welcome", "withheld")], DONE, reason)
