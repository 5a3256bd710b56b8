"""Properties of scoring (hypothesis): arrival order never matters, and replaying history equals the live run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.lead_scoring.definitions.document import LeadDefinition, parse_definition
from services.lead_scoring.scoring.engagement import EngagementLedger, Touch
from services.lead_scoring.scoring.explanation import explain
from services.lead_scoring.scoring.rules import Consent, decide_stage, roll_up_account, score_contact
from tests.lead_scoring.builders import GOOD_ACCOUNT, GOOD_CONTACT, NOW, example_doc, make_definition

DEFINITIONS = {"test": make_definition(), "example": parse_definition(example_doc())}
START = NOW - timedelta(days=60)

# Half-day slots over two months: timestamps collide often, and caps (7 and 30 days) and decay all matter.
touch_fields = st.tuples(
    st.integers(min_value=0, max_value=120).map(lambda slot: START + timedelta(hours=12 * slot)),
    st.sampled_from(
        [
            "email_open",
            "email_open",
            "webinar_attended",
            "page_view",
            "content_download",
            "pricing_page_view",
            "demo_request",
            "contact_sales",
            "unsubscribe",
            "email_click",
        ]
    ),
    st.sampled_from([None, "web", "paid_social"]),
    st.sampled_from([None, "q3-launch"]),
    st.lists(st.sampled_from(["careers", "whitepaper", "guide", "bofu"]), max_size=2, unique=True).map(tuple),
)
touch_lists = st.lists(touch_fields, max_size=25).map(
    lambda rows: [
        Touch(f"t{i:03d}", occurred_at, touch_type, channel, campaign, tags)
        for i, (occurred_at, touch_type, channel, campaign, tags) in enumerate(rows)
    ]
)


def decide(definition: LeadDefinition, touches, now):
    score = score_contact(
        definition, contact=GOOD_CONTACT, account=GOOD_ACCOUNT, touches=touches, consent=Consent(), now=now
    )
    account = roll_up_account(definition, {"c1": score}, {"c1": "decision_maker"})
    return score, decide_stage(definition, score, account), account


@pytest.mark.parametrize("name", DEFINITIONS)
@settings(deadline=None)
@given(data=st.data())
def test_touches_with_the_same_timestamp_give_the_same_score_in_any_order(name, data):
    definition = DEFINITIONS[name]
    slots = data.draw(st.lists(st.integers(0, 120), min_size=1, max_size=3, unique=True), label="slots")
    touches = [
        Touch(touch.touch_id, START + timedelta(hours=12 * slots[i % len(slots)]), touch.touch_type, touch.channel,
              touch.campaign, touch.content_tags)
        for i, touch in enumerate(data.draw(touch_lists, label="touches"))
    ]  # fmt: skip
    shuffled = data.draw(st.permutations(touches), label="shuffled")

    first, first_decision, first_account = decide(definition, touches, NOW)
    second, second_decision, second_account = decide(definition, shuffled, NOW)

    assert second == first
    assert second_decision == first_decision
    assert explain(definition, second, second_account, second_decision) == explain(
        definition, first, first_account, first_decision
    )


@pytest.mark.parametrize("name", DEFINITIONS)
@settings(deadline=None)
@given(touches=touch_lists, data=st.data())
def test_ledger_built_touch_by_touch_in_any_arrival_order_equals_the_replayed_ledger(name, touches, data):
    definition = DEFINITIONS[name]
    arrival = data.draw(st.permutations(touches), label="arrival")

    live = EngagementLedger.start(definition)
    for count, touch in enumerate(arrival, start=1):
        live = live.add(touch)
        assert live == EngagementLedger.start(definition).extend(arrival[:count])
    assert live.score_at(NOW) == EngagementLedger.start(definition).extend(touches).score_at(NOW)


@pytest.mark.parametrize("name", DEFINITIONS)
@settings(deadline=None)
@given(touches=touch_lists, later_hours=st.integers(0, 24 * 90))
def test_scoring_at_each_touch_live_equals_replaying_the_whole_history_at_that_time(name, touches, later_hours):
    definition = DEFINITIONS[name]
    history = sorted(touches, key=lambda touch: touch.order)
    live = EngagementLedger.start(definition)
    for position, touch in enumerate(history):
        live = live.add(touch)
        if position + 1 < len(history) and history[position + 1].occurred_at == touch.occurred_at:
            continue  # the live run scores once every touch of that instant is in
        now = touch.occurred_at

        live_result = decide(definition, live, now)

        assert live_result == decide(definition, history, now)  # replay: the whole history, scored at `now`
    if history:
        later = history[-1].occurred_at + timedelta(hours=later_hours)
        assert decide(definition, live, later) == decide(definition, touches, later)
