"""Engagement rules: matching, decay by half-life and caps per rolling window, against numbers computed by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.lead_scoring.scoring.engagement import EngagementLedger, Touch, score_engagement
from tests.lead_scoring.builders import NOW, base_doc, make_definition, touch

DEFINITION = make_definition()


def test_points_halve_every_half_life():
    result = score_engagement(
        DEFINITION, [touch("w1", 10, "webinar_attended"), touch("w2", 20, "webinar_attended")], NOW
    )

    # 20 * 0.5 ** (10 / 10) + 20 * 0.5 ** (20 / 10)
    assert result.score == 15.0
    assert [(hit.decay_factor, hit.decayed_points) for hit in result.hits] == [(0.25, 5.0), (0.5, 10.0)]


def test_decay_uses_fractional_days():
    result = score_engagement(DEFINITION, [touch("w1", 5, "webinar_attended")], NOW)

    # 20 * 0.5 ** 0.5 = 14.1421356...
    assert result.hits[0].decay_factor == pytest.approx(0.7071067811865476)
    assert result.score == 14.14


def test_score_is_rounded_once_from_the_exact_sum():
    touches = [touch(f"w{i}", 5, "webinar_attended") for i in range(3)]

    # 3 * 14.1421356 = 42.4264 -> 42.43, where adding rounded points would give 42.42
    assert score_engagement(DEFINITION, touches, NOW).score == 42.43


def test_rule_half_life_overrides_the_default():
    result = score_engagement(
        DEFINITION, [touch("p1", 10, "page_view", channel="paid_social", campaign="q3-launch")], NOW
    )

    # 4 * 0.5 ** (10 / 5)
    assert result.score == 1.0


def test_rule_without_decay_keeps_its_points():
    result = score_engagement(DEFINITION, [touch("u1", 100, "unsubscribe")], NOW)

    assert result.score == -20.0
    assert result.hits[0].decay_factor == 1.0


def test_without_a_half_life_nothing_decays():
    doc = base_doc()
    doc["engagement"]["half_life_days"] = None

    result = score_engagement(make_definition(doc), [touch("w1", 365, "webinar_attended")], NOW)

    assert result.score == 20.0


def test_cap_counts_only_the_rest_of_the_window_and_frees_up_as_the_window_rolls():
    # open: 2 points, at most 5 within any 7 days, no decay
    days_ago = [10, 9, 8, 7, 3, 1.5]
    touches = [touch(f"o{i}", days, "email_open") for i, days in enumerate(days_ago)]

    result = score_engagement(DEFINITION, touches, NOW)

    # 10,9,8: 2+2+1 (cut 1); 7: 0 (cut 2); 3: the touch at 10 days left the window (3 - 7 = 10 is excluded),
    # so 2+1+0 are used and 2 fit; 1.5: window (8.5, 1.5] holds 1+0+2, so 2 fit.
    assert [hit.counted_points for hit in result.hits] == [2, 2, 1, 0, 2, 2]
    assert [hit.cut_points for hit in result.hits] == [0, 0, 1, 2, 0, 0]
    assert [hit.cap_hit for hit in result.hits] == [False, False, True, True, False, False]
    assert result.score == 9.0


def test_cap_on_negative_points_limits_the_penalty():
    touches = [touch(f"c{days}", days, "page_view", content_tags=("careers",)) for days in (5, 4, 3)]

    result = score_engagement(DEFINITION, touches, NOW)

    assert [hit.counted_points for hit in result.hits] == [-10, -5, 0]
    assert [hit.cut_points for hit in result.hits] == [0, -5, -10]
    assert result.score == -15.0


def test_cap_applies_to_raw_points_then_decay_applies_to_what_was_counted():
    doc = base_doc()
    doc["engagement"]["rules"][0]["cap"] = {"max_points": 30, "window_days": 30}
    touches = [
        touch("b", 10, "webinar_attended"),
        touch("a", 10, "webinar_attended"),
        touch("c", 0, "webinar_attended"),
    ]

    result = score_engagement(make_definition(doc), touches, NOW)

    # same time: "a" before "b"; a counts 20, b the remaining 10, c nothing; a and b are 10 days old: x 0.5
    assert [(hit.touch_id, hit.counted_points, hit.decayed_points) for hit in result.hits] == [
        ("a", 20, 10.0),
        ("b", 10, 5.0),
        ("c", 0, 0.0),
    ]
    assert result.score == 15.0


def test_a_touch_earns_the_points_of_every_rule_it_matches():
    both = touch("p1", 0, "page_view", channel="paid_social", campaign="q3-launch", content_tags=("careers", "x"))

    result = score_engagement(DEFINITION, [both], NOW)

    assert [hit.rule_id for hit in result.hits] == ["careers", "paid_launch"]
    assert result.score == -6.0


@pytest.mark.parametrize(
    ("channel", "campaign", "tags", "rules"),
    [
        ("PAID_SOCIAL", "Q3-Launch", (), ["paid_launch"]),  # matching ignores case
        ("paid_social", "q4-launch", (), []),  # every criterion must match
        (None, "q3-launch", (), []),
        ("web", None, ("blog",), []),
        ("web", None, ("Careers",), ["careers"]),
    ],
)
def test_rule_matches_only_when_every_criterion_does(channel, campaign, tags, rules):
    result = score_engagement(
        DEFINITION, [touch("t", 0, "page_view", channel=channel, campaign=campaign, content_tags=tags)], NOW
    )

    assert [hit.rule_id for hit in result.hits] == rules


def test_touches_after_now_do_not_count():
    result = score_engagement(
        DEFINITION, [touch("w1", 0, "webinar_attended"), touch("w2", -1, "webinar_attended")], NOW
    )

    assert [hit.touch_id for hit in result.hits] == ["w1"]
    assert result.score == 20.0


def test_a_re_sent_touch_counts_once():
    ledger = EngagementLedger.start(DEFINITION).add(touch("w1", 0, "webinar_attended"))

    assert ledger.add(touch("w1", 0, "webinar_attended")) is ledger
    assert score_engagement(DEFINITION, [touch("w1", 0, "webinar_attended")] * 3, NOW).score == 20.0


def test_a_late_touch_recounts_the_caps_after_it():
    live = EngagementLedger.start(DEFINITION).add(touch("o2", 8, "email_open")).add(touch("o3", 7, "email_open"))
    assert [entry.counted_points for entry in live.counted] == [2, 2]

    live = live.add(touch("o1", 9, "email_open"))

    assert [(entry.touch.touch_id, entry.counted_points) for entry in live.counted] == [("o1", 2), ("o2", 2), ("o3", 1)]
    assert live == EngagementLedger.start(DEFINITION).extend([touch(f"o{i}", 10 - i, "email_open") for i in (1, 2, 3)])


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="`occurred_at` must be timezone-aware"):
        Touch("t", datetime(2025, 1, 1), "email_open")
    with pytest.raises(ValueError, match="`now` must be timezone-aware"):
        score_engagement(DEFINITION, [], NOW.replace(tzinfo=None))


def test_instants_in_other_time_zones_order_by_instant():
    later_in_tokyo = Touch("a", (NOW - timedelta(days=1)).astimezone(ZoneInfo("Asia/Tokyo")), "webinar_attended")
    earlier_in_utc = Touch("b", NOW - timedelta(days=2), "webinar_attended")

    result = score_engagement(DEFINITION, [later_in_tokyo, earlier_in_utc], NOW)

    assert [hit.touch_id for hit in result.hits] == ["b", "a"]
