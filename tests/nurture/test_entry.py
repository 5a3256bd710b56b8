"""Which track a lead enters (criteria, priority, one enrollment, cooldown, re-entry), exits, skips, branches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.nurture.tracks.branching import after_step
from services.nurture.tracks.compiled import CompiledTrack
from services.nurture.tracks.entry import PastEnrollment, choose_track, exit_reason
from services.nurture.tracks.matching import LeadProfile, should_skip
from tests.clock import T0
from tests.nurture.builders import track

RAW = LeadProfile(stage="raw", fit_grade="C", industry="Logistics", employees=120, country="FR")


def _tracks(**extra: dict[str, Any]) -> list[CompiledTrack]:
    """awareness (raw, priority 10), consideration (engaged A/B, 20), re-nurture (bad timing, 30)."""
    return [
        track("awareness"),
        track("consideration", entry={"stages": ["engaged"], "fit_grades": ["A", "B"]}, priority=20),
        track("re-nurture", entry={"recycle_reasons": ["bad_timing"]}, priority=30),
        *(track(key, **changes) for key, changes in extra.items()),
    ]


def _key(decision: Any) -> str | None:
    return decision.track.key if decision.track else None


def test_a_new_raw_lead_enters_awareness() -> None:
    decision = choose_track(_tracks(), RAW, [], T0)
    assert (_key(decision), decision.reason) == ("awareness", "new_raw_lead")


def test_an_engaged_lead_with_a_good_fit_enters_consideration() -> None:
    lead = LeadProfile(stage="engaged", fit_grade="B")
    assert (_key(d := choose_track(_tracks(), lead, [], T0)), d.reason) == ("consideration", "engaged_not_ready")


def test_an_engaged_lead_with_a_poor_fit_matches_no_track() -> None:
    decision = choose_track(_tracks(), LeadProfile(stage="engaged", fit_grade="D"), [], T0)
    assert (decision.track, decision.reason) == (None, "no_track_matches")


def test_a_lead_sales_sent_back_for_bad_timing_enters_re_nurture_over_awareness() -> None:
    lead = LeadProfile(stage="raw", recycle_reason="bad_timing")
    decision = choose_track(_tracks(), lead, [], T0)
    assert (_key(decision), decision.reason) == ("re-nurture", "recycled_by_sales")


def test_the_track_a_recycle_policy_names_wins_whatever_its_criteria() -> None:
    lead = LeadProfile(stage="mql", recycle_reason="no_budget")
    assert _key(choose_track(_tracks(), lead, [], T0, preferred="consideration")) == "consideration"
    assert _key(choose_track(_tracks(), lead, [], T0)) is None  # no_budget: only the policy could place it


def test_mql_and_disqualified_leads_are_not_nurtured_unless_sales_sent_them_back() -> None:
    decision = choose_track(_tracks(), LeadProfile(stage="mql"), [], T0)
    assert (decision.track, decision.reason) == (None, "not_nurtured_stage")


def test_buying_role_variants_send_each_role_its_own_track() -> None:
    tracks = _tracks(
        **{
            "roi-for-economic-buyers": {
                "entry": {"stages": ["raw"], "buying_roles": ["economic_buyer"]},
                "priority": 15,
            },
            "product-for-users": {"entry": {"stages": ["raw"], "buying_roles": ["user"]}, "priority": 15},
        }
    )
    roles = {
        role: _key(choose_track(tracks, LeadProfile(stage="raw", buying_role=role), [], T0))
        for role in ("economic_buyer", "user", None)
    }
    assert roles == {"economic_buyer": "roi-for-economic-buyers", "user": "product-for-users", None: "awareness"}


def test_equal_priorities_are_broken_by_key_whatever_the_order() -> None:
    tracks = [track("b-track"), track("a-track")]
    assert _key(choose_track(tracks, RAW, [], T0)) == _key(choose_track(tracks[::-1], RAW, [], T0)) == "a-track"


def test_a_contact_has_at_most_one_active_enrollment() -> None:
    decision = choose_track(_tracks(), RAW, [PastEnrollment("consideration", active=True)], T0)
    assert (decision.track, decision.reason) == (None, "already_enrolled")


def test_the_same_track_again_only_after_its_cooldown() -> None:
    history = [PastEnrollment("awareness", active=False, exited_at=T0 - timedelta(days=10))]  # cooldown 30 days

    waiting = choose_track([track("awareness")], RAW, history, T0)
    assert (waiting.track, waiting.reason, waiting.retry_at) == (None, "cooling_down", T0 + timedelta(days=20))
    assert _key(choose_track([track("awareness")], RAW, history, T0 + timedelta(days=20))) == "awareness"


def test_a_track_without_re_entry_is_closed_and_the_next_best_one_is_taken() -> None:
    once = track("awareness", reentry={"allowed": False})
    fallback = track("evergreen", priority=0)
    history = [PastEnrollment("awareness", active=False, exited_at=T0 - timedelta(days=400))]

    assert choose_track([once], RAW, history, T0).reason == "reentry_not_allowed"
    assert _key(choose_track([once, fallback], RAW, history, T0)) == "evergreen"


def test_criteria_on_unknown_values_never_match() -> None:
    segment = track("mid-market", entry={"employee_band": {"min": 100, "max": 999}, "industries": ["logistics"]})
    assert _key(choose_track([segment], RAW, [], T0)) == "mid-market"  # industry compared ignoring case
    unknown_size = LeadProfile(stage="raw", industry="Logistics")
    assert choose_track([segment], unknown_size, [], T0).track is None


def test_sources_and_campaigns_select_a_track() -> None:
    webinar = track("webinar-follow-up", entry={"sources": ["Webinar"], "campaigns": ["q4-launch", "q1-launch"]})
    lead = LeadProfile(stage="raw", source="webinar", campaigns=frozenset({"q4-launch", "newsletter"}))
    assert _key(choose_track([webinar], lead, [], T0)) == "webinar-follow-up"
    assert choose_track([webinar], LeadProfile(stage="raw", source="webinar"), [], T0).track is None


def test_exits_follow_the_track_but_unsubscribe_and_erasure_always_end_it() -> None:
    narrow = track(exit_on=["qualified", "unsubscribed", "erased"])
    assert [exit_reason(narrow, fact) for fact in ("qualified", "converted", "unsubscribed", "erased")] == [
        "qualified",
        None,
        "unsubscribed",
        "erased",
    ]


def test_a_step_is_skipped_for_leads_meeting_its_skip_condition() -> None:
    compiled = track()
    doc_step = {"skip_if": {"engaged_with": ["buyers-guide"]}}
    skipping = track(steps=[{**step, **doc_step} if step["id"] == "case-study" else step for step in _steps()])
    assert not should_skip(compiled.step(3), RAW)
    assert should_skip(skipping.step(3), LeadProfile(stage="raw", engaged_content=frozenset({"buyers-guide"})))
    assert not should_skip(skipping.step(3), RAW)


def _steps() -> list[dict[str, Any]]:
    from tests.nurture.builders import track_doc

    steps: list[dict[str, Any]] = track_doc()["steps"]
    return steps


def test_engaging_within_the_window_goes_on_from_the_engagement() -> None:
    guide = track().step(2)  # engaged within 5 days: case-study (3), else reminder (4)
    engaged_at = T0 + timedelta(days=2)
    outcome = after_step(guide, T0, engaged_at, now=engaged_at)
    assert (outcome.outcome, outcome.next_step, outcome.since) == ("engaged", 3, engaged_at)


def test_no_engagement_by_the_deadline_takes_the_alternate_step() -> None:
    guide = track().step(2)
    outcome = after_step(guide, T0, None, now=T0 + timedelta(days=5))
    assert (outcome.outcome, outcome.next_step, outcome.since) == ("not_engaged", 4, T0 + timedelta(days=5))
    late = after_step(guide, T0, T0 + timedelta(days=6), now=T0 + timedelta(days=6))
    assert (late.outcome, late.next_step) == ("not_engaged", 4)


def test_before_the_deadline_without_engagement_the_lead_waits() -> None:
    outcome = after_step(track().step(2), T0, None, now=T0 + timedelta(days=1))
    assert (outcome.outcome, outcome.next_step, outcome.since) == ("waiting", None, T0 + timedelta(days=5))


def test_a_step_without_a_branch_goes_to_its_next_step_and_the_last_one_finishes() -> None:
    compiled = track()
    assert after_step(compiled.step(1), T0, None, T0) == after_step(compiled.step(1), T0, T0, T0)
    assert (
        after_step(compiled.step(1), T0, None, T0).next_step,
        after_step(compiled.step(4), T0, None, T0).next_step,
    ) == (2, None)
