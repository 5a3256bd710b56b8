"""Scoring a lead: fit and grades, disqualifiers, hand-raisers, account roll-up, committee, stage, explanation."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from services.lead_scoring.definitions.conditions import Attributes, Results
from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.scoring.engagement import Touch
from services.lead_scoring.scoring.explanation import explain
from services.lead_scoring.scoring.rules import (
    AccountScore,
    Consent,
    ContactScore,
    ProfileMemo,
    check_disqualifiers,
    decide_stage,
    roll_up_account,
    score_contact,
    score_fit,
)
from tests.lead_scoring.builders import GOOD_ACCOUNT, GOOD_CONTACT, NOW, base_doc, make_definition, touch

DEFINITION = make_definition()
ENGAGED_TOUCHES = [touch("w1", 0, "webinar_attended"), touch("w2", 0, "webinar_attended")]  # 40 points


def score(
    contact: Attributes = GOOD_CONTACT,
    account: Attributes | None = GOOD_ACCOUNT,
    touches: Iterable[Touch] = (),
    consent: Consent = Consent(),
    definition: LeadDefinition = DEFINITION,
    cycle_started_at: datetime | None = None,
) -> ContactScore:
    return score_contact(
        definition,
        contact=contact,
        account=account,
        touches=touches,
        consent=consent,
        now=NOW,
        cycle_started_at=cycle_started_at,
    )


def alone(contact_score: ContactScore, role: str | None = "decision_maker", definition=DEFINITION) -> AccountScore:
    return roll_up_account(definition, {"c1": contact_score}, {"c1": role})


def test_fit_score_sums_matching_rules_and_lists_what_matched():
    result = score_fit(DEFINITION, GOOD_CONTACT, GOOD_ACCOUNT)

    assert result.score == 65.0
    assert result.grade == "A"
    assert [(hit.rule_id, hit.points, hit.matched) for hit in result.hits] == [
        ("industry", 30, ("account.industry=Software",)),
        ("size", 20, ("account.employees=250",)),
        ("vp", 15, ("contact.title=VP Operations",)),
    ]


@pytest.mark.parametrize(
    ("account", "contact", "expected_score", "grade"),
    [
        ({"industry": "software", "employees": 250}, {}, 50, "B"),  # 60 is A: thresholds are inclusive
        ({"industry": "software"}, {"title": "VP Sales"}, 45, "B"),
        ({"industry": "software"}, {}, 30, "C"),
        ({"employees": 100}, {}, 20, "C"),
        (None, {"title": "VP"}, 15, "D"),
        (None, {"email_domain": "gmail.com"}, -25, "D"),
        ({"industry": "software", "employees": 250}, {"title": "vp", "email_domain": "gmail.com"}, 40, "B"),
    ],
)
def test_fit_grade_is_the_best_threshold_reached(account, contact, expected_score, grade):
    result = score_fit(DEFINITION, contact, account)

    assert (result.score, result.grade) == (expected_score, grade)


def test_fit_grade_at_exact_threshold():
    doc = base_doc()
    doc["fit"]["grades"] = {"A": 65, "B": 64.99, "C": 1}

    assert score_fit(make_definition(doc), GOOD_CONTACT, GOOD_ACCOUNT).grade == "A"


def test_an_accounts_contacts_scored_together_get_the_fit_each_gets_alone():
    contacts: list[Attributes] = [
        GOOD_CONTACT,
        {"title": "Intern"},
        {},
        {"title": "Director of IT", "email_domain": "gmail.com"},
    ]
    results = Results()  # what each rule's condition gave for the values it read, shared
    for account in (GOOD_ACCOUNT, {"industry": "Retail", "employees": 5}, None):
        test = results.of_account()
        together = [score_fit(DEFINITION, contact, account, test) for contact in contacts]

        assert together == [score_fit(DEFINITION, contact, account) for contact in contacts]


def test_remembered_profiles_are_those_scored_each_time():
    definition = DEFINITION.model_copy(update={"version": 7})  # published: its profiles are remembered
    contacts: list[Attributes] = [
        GOOD_CONTACT,
        {"title": "Intern"},
        {},
        {"title": "Director of IT", "email_domain": "gmail.com"},
        {**GOOD_CONTACT, "email": "bo@rival.com"},
        {**GOOD_CONTACT, "email": "al@notrival.com"},
        {"title": ["VP", "Operations"]},
        {"seniority": True},
        {"seniority": 1},
    ]
    consents = [Consent(), Consent(unsubscribed=True), Consent(erased=True), Consent(marketing_consent=False)]
    accounts: list[Attributes | None] = [
        GOOD_ACCOUNT,
        {"industry": "Retail", "employees": 5},
        {**GOOD_ACCOUNT, "is_customer": True},
        {**GOOD_ACCOUNT, "is_customer": 1},
        {"domain": "www.rival.com"},
        None,
    ]
    memo = ProfileMemo()
    for _ in range(2):  # scored, then remembered
        for account in accounts:
            pairs = [(contact, consent) for contact in contacts for consent in consents]
            assert memo.profiles(definition, account, pairs) == [
                (score_fit(definition, contact, account), check_disqualifiers(definition, contact, account, consent))
                for contact, consent in pairs
            ]


@pytest.mark.parametrize(
    ("contact", "account", "detail"),
    [
        ({"email": "bo@rival.com"}, None, "domain rival.com belongs to competitor rival.com"),
        ({"email_domain": "eu.Rival.com"}, None, "domain eu.rival.com belongs to competitor rival.com"),
        ({}, {"domain": "www.rival.com"}, "domain rival.com belongs to competitor rival.com"),
    ],
)
def test_competitor_domain_disqualifies_by_email_or_account_domain(contact, account, detail):
    result = score(contact=contact, account=account)

    assert [(hit.rule_id, hit.reason_code, hit.detail) for hit in result.disqualifiers] == [
        ("competitor", "competitor", detail)
    ]


def test_lookalike_domain_is_not_a_competitor():
    assert score(contact={"email": "bo@notrival.com"}, account=None).disqualifiers == ()


def test_condition_disqualifier_reports_what_matched():
    result = score(contact={"email_domain": "mit.edu"}, account=None)

    assert [(hit.reason_code, hit.detail) for hit in result.disqualifiers] == [
        ("student", "contact.email_domain=mit.edu")
    ]


def test_existing_customer_flag_disqualifies_only_when_true():
    assert [hit.reason_code for hit in score(account={**GOOD_ACCOUNT, "is_customer": True}).disqualifiers] == [
        "existing_customer"
    ]
    assert score(account={**GOOD_ACCOUNT, "is_customer": False}).disqualifiers == ()


@pytest.mark.parametrize(
    ("consent", "require_opt_in", "detail"),
    [
        (Consent(unsubscribed=True), False, "unsubscribed"),
        (Consent(marketing_consent=False), False, "withdrew marketing consent"),
        (Consent(), True, "no recorded opt-in"),
        (Consent(), False, None),
        (Consent(marketing_consent=True), True, None),
    ],
)
def test_no_consent_disqualifies(consent, require_opt_in, detail):
    doc = base_doc()
    doc["disqualifiers"][3]["require_opt_in"] = require_opt_in

    hits = score(consent=consent, definition=make_definition(doc)).disqualifiers

    assert [hit.detail for hit in hits] == ([detail] if detail else [])


def test_erased_contact_is_disqualified_even_without_a_consent_rule():
    doc = base_doc()
    doc["disqualifiers"] = []
    definition = make_definition(doc)

    result = score(consent=Consent(erased=True), touches=[touch("d", 0, "demo_request")], definition=definition)

    assert [(hit.rule_id, hit.reason_code) for hit in result.disqualifiers] == [(None, "erased")]
    assert decide_stage(definition, result, alone(result, definition=definition)).stage == "disqualified"


def test_disqualified_lead_never_qualifies_even_with_a_demo_request():
    result = score(contact={**GOOD_CONTACT, "email": "x@rival.com"}, touches=[touch("d", 0, "demo_request")])

    decision = decide_stage(DEFINITION, result, alone(result))

    assert (decision.stage, decision.reason) == ("disqualified", "competitor")
    assert decision.explanation == "disqualified (competitor): domain rival.com belongs to competitor rival.com"


def test_demo_request_with_good_enough_fit_qualifies_at_once():
    result = score(contact={}, account={"industry": "software"}, touches=[touch("d", 1, "demo_request")])  # grade C

    decision = decide_stage(DEFINITION, result, alone(result))

    assert (decision.stage, decision.reason) == ("mql", "hand_raiser")
    assert decision.explanation.startswith("hand-raiser hand.demo: demo_request at ")
    assert "fit grade C is below B" in decision.unmet_criteria


def test_demo_request_with_poor_fit_does_not_fast_track():
    result = score(account=None, contact={}, touches=[touch("d", 1, "demo_request")])  # fit 0: grade D

    assert [(hit.rule_id, hit.fit_grade_met) for hit in result.hand_raisers] == [("hand.demo", False)]
    assert decide_stage(DEFINITION, result, alone(result)).stage == "engaged"  # the 10 demo points


@pytest.mark.parametrize(
    ("days_ago", "cycle_started_days_ago", "fires"),
    [(30, None, True), (31, None, False), (-1, None, False), (5, 5, False), (5, 6, True)],
)
def test_hand_raise_counts_within_its_window_and_the_current_cycle(days_ago, cycle_started_days_ago, fires):
    since = None if cycle_started_days_ago is None else NOW - timedelta(days=cycle_started_days_ago)

    result = score(touches=[touch("d", days_ago, "demo_request")], cycle_started_at=since)

    assert bool(result.hand_raisers) is fires


def test_latest_hand_raise_is_reported():
    result = score(touches=[touch("d1", 9, "demo_request"), touch("d2", 2, "demo_request")])

    assert [hit.touch_id for hit in result.hand_raisers] == ["d2"]


def test_roll_up_sums_the_top_n_contacts_and_skips_disqualified_ones():
    scores = {
        "c1": score(touches=[touch("a", 0, "webinar_attended")]),  # 20
        "c2": score(touches=[touch("b", 0, "demo_request")]),  # 10
        "c3": score(touches=[touch("c", 10, "webinar_attended")]),  # 10
        "c4": score(touches=ENGAGED_TOUCHES, consent=Consent(unsubscribed=True)),  # 40, but disqualified
    }

    account = roll_up_account(DEFINITION, scores, {"c1": "champion", "c2": "decision_maker", "c4": "economic_buyer"})

    assert account.score == 30.0
    assert account.engaged_contacts == ("c1", "c2", "c3")
    assert account.roles_covered == ("champion", "decision_maker")
    assert (account.committee_met, account.missing_roles) == (True, ())


def test_roll_up_by_max_takes_the_most_engaged_contact():
    doc = base_doc()
    doc["account"]["roll_up"] = {"method": "max"}
    scores = {"c1": score(touches=[touch("a", 0, "webinar_attended")]), "c2": score(touches=ENGAGED_TOUCHES)}

    assert roll_up_account(make_definition(doc), scores, {}).score == 40.0


def test_unengaged_contacts_do_not_cover_committee_roles():
    scores = {"c1": score(touches=ENGAGED_TOUCHES), "c2": score(touches=[touch("o", 0, "email_open")])}

    account = roll_up_account(DEFINITION, scores, {"c2": "decision_maker"})

    assert account.engaged_contacts == ("c1",)
    assert (account.committee_met, account.missing_roles) == (False, ("decision_maker",))
    assert decide_stage(DEFINITION, scores["c1"], account).unmet_criteria == (
        "buying committee not met: no engaged decision_maker, 1 of 2 engaged contacts",
    )


@pytest.mark.parametrize(
    ("require", "roles", "met"),
    [
        ("all", {"c1": "decision_maker"}, False),  # one engaged contact, two needed
        ("any", {"c1": "decision_maker"}, True),
        ("any", {"c1": "champion"}, False),
    ],
)
def test_committee_needs_all_or_any_requirement(require, roles, met):
    doc = base_doc()
    doc["account"]["committee"]["require"] = require
    definition = make_definition(doc)
    scores = {"c1": score(touches=ENGAGED_TOUCHES, definition=definition)}

    assert roll_up_account(definition, scores, roles).committee_met is met


def test_lead_meeting_every_criterion_is_an_mql():
    c1 = score(touches=ENGAGED_TOUCHES)
    c2 = score(touches=[touch("x", 0, "webinar_attended")])
    account = roll_up_account(DEFINITION, {"c1": c1, "c2": c2}, {"c1": "decision_maker"})

    decision = decide_stage(DEFINITION, c1, account)

    assert (decision.stage, decision.reason, decision.unmet_criteria) == ("mql", "criteria", ())
    assert decision.explanation == (
        "meets the MQL criteria: fit grade A (min B), engagement 40 (min 30), account score 60 (min 40), "
        "buying committee met"
    )


def test_engaged_lead_below_mql_criteria_says_what_is_missing():
    result = score(touches=ENGAGED_TOUCHES)

    decision = decide_stage(DEFINITION, result, alone(result))

    assert (decision.stage, decision.reason) == ("engaged", "engagement_threshold")
    assert decision.unmet_criteria == ("buying committee not met: 1 of 2 engaged contacts",)


def test_lead_below_engagement_threshold_is_raw():
    result = score(touches=[touch("o", 0, "email_open")])

    decision = decide_stage(DEFINITION, result, alone(result))

    assert (decision.stage, decision.reason) == ("raw", "below_engagement_threshold")
    assert decision.explanation.startswith(
        "raw: engagement 2 < 10; not an MQL: engagement 2 < 30; account score 2 < 40"
    )


def test_explanation_lists_every_rule_with_points_decay_caps_and_version():
    touches = [touch("w", 10, "webinar_attended"), *(touch(f"o{i}", 1, "email_open") for i in range(3))]
    result = score(touches=touches)

    explanation = explain(DEFINITION, result, alone(result), decide_stage(DEFINITION, result, alone(result)))

    assert json.loads(json.dumps(explanation)) == explanation  # JSON-able as is
    assert explanation["definition"] == {"name": "test definition", "version": 3}
    assert [hit["rule_id"] for hit in explanation["fit"]["hits"]] == ["industry", "size", "vp"]
    assert explanation["engagement"]["score"] == 15.0
    assert explanation["engagement"]["by_rule"] == [
        {"rule_id": "webinar", "label": "webinar", "touches": 1, "raw_points": 20.0, "counted_points": 20.0,
         "decayed_points": 10.0, "caps_hit": 0},
        {"rule_id": "open", "label": "open", "touches": 3, "raw_points": 6.0, "counted_points": 5.0,
         "decayed_points": 5.0, "caps_hit": 1},
    ]  # fmt: skip
    webinar = explanation["engagement"]["hits"][0]
    assert (webinar["decay_factor"], webinar["decayed_points"], webinar["cap_hit"]) == (0.5, 10.0, False)
    assert explanation["stage"] == "engaged"
