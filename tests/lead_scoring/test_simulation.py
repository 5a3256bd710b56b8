"""Simulation on history: hand-checked qualifications and rates, and the replay equal to naive live evaluation."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.lead_scoring.scoring.engagement import Touch
from services.lead_scoring.scoring.lifecycle import STICKY_REASONS, LeadState, Verdict, next_state, recycle
from services.lead_scoring.scoring.rules import Consent, decide_stage, roll_up_engagement, score_contact
from services.lead_scoring.simulation.runner import (
    AccountHistory,
    ContactHistory,
    History,
    Outcome,
    SimulationResult,
    compare,
    employee_band,
    iso_week,
    simulate,
)
from tests.lead_scoring.builders import GOOD_ACCOUNT, NOW, base_doc, example_doc, make_definition

DEFINITION = make_definition()
START = NOW - timedelta(days=30)
END = NOW + timedelta(days=1)
ACCOUNT = uuid.UUID(int=1)


def contact_id(number: int) -> uuid.UUID:
    """A readable contact id."""
    return uuid.UUID(int=1000 + number)


def contact(
    number: int,
    touches: Sequence[Touch] = (),
    *,
    title: str = "VP Operations",
    role: str | None = None,
    email: str | None = "",
    outcomes: tuple[Outcome, ...] = (),
    consent: Consent = Consent(),
) -> ContactHistory:
    """A contact at acme.com; its touches' source system is 'segment'."""
    address = f"c{number}@acme.com" if email == "" else email
    attributes = {"title": title, **({"email": address, "email_domain": "acme.com"} if address else {})}
    if role:
        attributes["buying_role"] = role
    ordered = tuple(sorted(touches, key=lambda touch: touch.order))
    return ContactHistory(
        contact_id(number), address, attributes, consent, role, ordered, ("segment",) * len(ordered), outcomes
    )


def at(days: float) -> datetime:
    """`days` after START."""
    return START + timedelta(days=days)


def touch(touch_id: str, days: float, touch_type: str, **fields) -> Touch:
    """A touch `days` after START."""
    return Touch(touch_id, at(days), touch_type, **fields)


def history(*contacts: ContactHistory, account: dict[str, object] | None = None) -> History:
    """One account (acme.com, good fit) holding the contacts."""
    return History((AccountHistory(ACCOUNT, account or GOOD_ACCOUNT, tuple(contacts)),))


def run(definition, hist: History, start: datetime = START, end: datetime = END) -> SimulationResult:
    """Simulate over the window."""
    return simulate(definition, hist, start=start, end=end)


# --- naive reference: the engine's rules, computed from scratch at every event -----------------------------------


def naive(definition, hist: History, start: datetime, end: datetime) -> list[tuple[uuid.UUID, datetime, str, int]]:
    """Qualifications found by scoring from the whole touch history at every event, with the engine's rules: the
    touched contact is decided; the others when the account's standing turns to met."""
    found = []
    for account in hist.accounts:
        groups = [[c] for c in account.contacts] if account.attributes is None else [list(account.contacts)]
        for group in groups:
            found += naive_account(definition, account.attributes, group, start, end)
    return sorted(found, key=lambda q: (q[1], str(q[0])))


def naive_account(
    definition, attributes, contacts: list[ContactHistory], start: datetime, end: datetime
) -> list[tuple[uuid.UUID, datetime, str, int]]:
    """One book of contacts, every score computed from its touches so far."""
    found = []
    states: dict[uuid.UUID, LeadState | None] = {c.contact_id: None for c in contacts}
    seen: dict[uuid.UUID, list[Touch]] = {c.contact_id: [] for c in contacts}
    by_id = {c.contact_id: c for c in contacts}
    events: list[tuple[datetime, int, str, uuid.UUID, Any]] = [
        (t.occurred_at, 0, t.touch_id, c.contact_id, t) for c in contacts for t in c.touches if t.occurred_at < end
    ]
    events += [
        (o.at, 1, "", c.contact_id, o) for c in contacts for o in c.outcomes if o.outcome == "rejected" and o.at < end
    ]
    mql = definition.mql
    standing: bool | None = None

    def score(cid: uuid.UUID, now: datetime):
        c = by_id[cid]
        unsubscribed = c.consent.unsubscribed or any(t.touch_type == "unsubscribe" for t in seen[cid])
        consent = Consent(c.consent.marketing_consent, unsubscribed, c.consent.erased)
        state = states[cid]
        return score_contact(
            definition,
            contact=c.attributes,
            account=attributes,
            touches=seen[cid],
            consent=consent,
            now=now,
            cycle_started_at=state.cycle_started_at if state else None,
        )

    def decide(cid: uuid.UUID, now: datetime, roll) -> None:
        result = score(cid, now)
        if attributes is None:
            eligible = {} if result.disqualifiers else {str(cid): result.engagement.score}
            roll = roll_up_engagement(definition, eligible, {str(cid): by_id[cid].buying_role})
        verdict = Verdict(result, roll, decide_stage(definition, result, roll))
        transition = next_state(states[cid], verdict, has_email=bool(by_id[cid].email), now=now)
        states[cid] = transition.state
        if transition.qualified and now >= start:
            found.append((cid, now, transition.state.reason or "", transition.state.qualification_cycle))

    def out(cid: uuid.UUID) -> bool:
        state = states[cid]
        return not by_id[cid].email or (
            state is not None
            and (state.stage == "mql" or (state.stage == "disqualified" and state.reason in STICKY_REASONS))
        )

    for now, kind, _, cid, item in sorted(events, key=lambda event: event[:4]):
        if kind == 0:
            seen[cid].append(item)
        else:
            state = states[cid]
            if state is None or state.stage != "mql":
                continue
            policy = definition.recycle.get(item.reason or "")
            action, wait = (policy.action, policy.wait_days) if policy else ("nurture", None)
            states[cid] = recycle(state, action=action, wait_days=wait, now=now)
        scores = {other: score(other, now) for other in seen if seen[other]}
        eligible = {str(other): result.engagement.score for other, result in scores.items() if not result.disqualifiers}
        roll = roll_up_engagement(definition, eligible, {str(c.contact_id): c.buying_role for c in contacts})
        met = attributes is None or (
            (mql.min_account_score is None or roll.score >= mql.min_account_score)
            and (not mql.committee_required or roll.committee_met)
        )
        turned = met and not standing
        standing = met
        decide(cid, now, roll)
        if turned:
            for other in by_id:
                if other != cid and seen[other] and not out(other):
                    decide(other, now, roll)
    return found


def moments(result: SimulationResult) -> list[tuple[uuid.UUID, datetime, str, int]]:
    """The qualifications as comparable tuples."""
    return [(q.contact_id, q.at, q.reason, q.cycle) for q in result.qualifications]


# --- hand-checked histories (the test definition: fit A for a VP at a 250-person software company) ------------

DANA = contact(0, [touch("d1", 5, "demo_request", channel="web", campaign="spring")])


def test_a_demo_request_with_a_good_fit_qualifies_at_once_as_a_hand_raiser():
    result = run(DEFINITION, history(DANA))

    [qualified] = result.qualifications
    assert (qualified.contact_id, qualified.at, qualified.reason, qualified.cycle) == (
        contact_id(0),
        at(5),
        "hand_raiser",
        1,
    )
    assert (qualified.touch_id, qualified.source_system, qualified.channel, qualified.campaign) == (
        "d1",
        "segment",
        "web",
        "spring",
    )
    assert result.per_week == {iso_week(at(5)): 1}
    assert result.per_source_system == {"segment": 1}
    assert result.per_channel == {"web": 1}
    assert result.per_segment == {"account.industry": {"software": 1}, "account.employee_band": {"200-999": 1}}


def committee() -> list[ContactHistory]:
    """A decision maker with two webinars, then a colleague's webinar completes the buying committee."""
    return [
        contact(1, [touch("w1", 1, "webinar_attended"), touch("w2", 2, "webinar_attended")], role="decision_maker"),
        contact(2, [touch("w3", 2.5, "webinar_attended")], title="Analyst"),
    ]


def test_a_contact_qualifies_by_criteria_when_a_colleague_completes_the_buying_committee():
    result = run(DEFINITION, history(*committee()))

    # At day 2 the decision maker has 20 * 0.5 ** 0.1 + 20 = 38.66 >= 30, but is the only engaged contact (2
    # needed). At day 2.5: 20 * 0.5 ** 0.15 + 20 * 0.5 ** 0.05 = 37.35 for it, 20 for the colleague: both
    # engaged, account 57.35 >= 40, a decision maker among them. The analyst's own 20 stay under 30.
    assert moments(result) == [(contact_id(1), at(2.5), "criteria", 1)]
    assert result.qualifications[0].touch_id == "w2"  # its own latest touch


def stricter() -> object:
    """The test definition asking 40 points of engagement instead of 30."""
    doc = base_doc()
    doc["mql"]["min_engagement_score"] = 40
    return make_definition(doc)


def test_a_stricter_draft_drops_the_lead_that_qualified_by_criteria_and_keeps_the_hand_raiser():
    hist = history(DANA, *committee())

    comparison = compare(run(DEFINITION, hist), run(stricter(), hist), {})

    assert [q.contact_id for q in comparison.dropped] == [contact_id(1)]
    assert comparison.newly_qualified == ()
    assert comparison.published is not None
    assert (comparison.published.mqls, comparison.draft.mqls) == (2, 1)


def test_the_looser_definition_newly_qualifies_what_the_stricter_one_in_force_does_not():
    hist = history(DANA, *committee())

    comparison = compare(run(stricter(), hist), run(DEFINITION, hist), {})

    assert [(q.contact_id, q.at) for q in comparison.newly_qualified] == [(contact_id(1), at(2.5))]
    assert comparison.dropped == ()


def test_acceptance_win_rate_precision_and_recall_against_hand_counted_outcomes():
    dana = contact(0, DANA.touches, outcomes=(Outcome("accepted", at(6)), Outcome("won", at(20))))
    first, second = committee()
    first = contact(1, first.touches, role="decision_maker", outcomes=(Outcome("rejected", at(9), "bad_timing"),))
    second = contact(2, second.touches, title="Analyst", outcomes=(Outcome("accepted", at(12)),))  # never an MQL
    eve = contact(3, [touch("e1", 7, "demo_request")], outcomes=(Outcome("accepted", at(8)), Outcome("lost", at(25))))
    hist = history(dana, first, second, eve)

    comparison = compare(run(DEFINITION, hist), run(stricter(), hist), hist.outcomes())

    published, draft = comparison.published, comparison.draft
    assert published is not None
    # In force: MQLs dana, first, eve; decisions 2 accepted, 1 rejected; 1 won, 1 lost; good leads (accepted,
    # converted or won) among all outcomes: dana, second, eve, of which it qualified dana and eve.
    assert (published.mqls, published.accepted, published.rejected, published.won, published.lost) == (3, 2, 1, 1, 1)
    assert published.acceptance_rate == pytest.approx(2 / 3)
    assert published.win_rate == 0.5
    assert published.precision == pytest.approx(2 / 3)
    assert published.recall == pytest.approx(2 / 3)
    # The draft drops the rejected lead: MQLs dana and eve, both good.
    assert (draft.mqls, draft.acceptance_rate, draft.win_rate, draft.precision) == (2, 1.0, 0.5, 1.0)
    assert draft.recall == pytest.approx(2 / 3)


def test_rates_are_unknown_without_outcomes():
    quality = compare(None, run(DEFINITION, history(DANA)), {}).draft

    assert (quality.acceptance_rate, quality.win_rate, quality.precision, quality.recall) == (None, None, None, None)


def test_a_rejected_lead_starts_a_new_cycle_and_only_a_new_hand_raise_requalifies_it():
    dana = contact(
        0,
        [touch("d1", 1, "demo_request"), touch("p1", 4, "page_view"), touch("d2", 10, "demo_request")],
        outcomes=(Outcome("rejected", at(3), "duplicate"),),  # recycle policy: close, no wait
    )

    result = run(DEFINITION, history(dana))

    assert moments(result) == [(contact_id(0), at(1), "hand_raiser", 1), (contact_id(0), at(10), "hand_raiser", 2)]


def test_a_lead_rejected_for_bad_timing_waits_as_the_recycle_policy_says():
    dana = contact(
        0,
        [touch("d1", 1, "demo_request"), touch("d2", 10, "demo_request")],
        outcomes=(Outcome("rejected", at(3), "bad_timing"),),  # nurture, 90 days
    )

    assert moments(run(DEFINITION, history(dana))) == [(contact_id(0), at(1), "hand_raiser", 1)]


def test_touches_before_the_window_are_history_and_what_qualified_then_is_not_reported_again():
    dana = contact(0, [touch("d0", -5, "demo_request"), touch("d1", 5, "demo_request")])

    assert moments(run(DEFINITION, history(dana))) == []
    assert moments(run(DEFINITION, history(dana), start=at(-10))) == [(contact_id(0), at(-5), "hand_raiser", 1)]


def test_nothing_at_or_after_the_end_is_replayed():
    assert moments(run(DEFINITION, history(DANA), end=at(5))) == []


def test_an_unsubscribed_contact_never_qualifies_and_one_without_email_neither():
    unsubscribed = contact(0, [touch("u1", 1, "unsubscribe"), touch("d1", 2, "demo_request")])
    no_email = contact(1, [touch("d2", 2, "demo_request")], email=None)

    assert moments(run(DEFINITION, history(unsubscribed, no_email))) == []


def test_a_contact_without_an_account_is_scored_alone():
    alone = contact(0, [touch("d1", 5, "demo_request")])
    hist = History((AccountHistory(None, None, (alone,)),))

    # Without an account only the VP title fits: 15 points, grade D, below the hand-raiser's C.
    assert moments(run(DEFINITION, hist)) == naive(DEFINITION, hist, START, END) == []


def test_progress_is_reported_in_touches_and_ends_at_the_total():
    calls: list[tuple[int, int]] = []

    simulate(
        DEFINITION,
        history(DANA, *committee()),
        start=START,
        end=END,
        progress=lambda *a: calls.append(a),
        progress_every=1,
    )

    assert calls[-1] == (4, 4)
    assert all(done <= total == 4 for done, total in calls)


def test_a_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="`end` must be after `start`"):
        simulate(DEFINITION, history(DANA), start=END, end=START)


@pytest.mark.parametrize(
    ("employees", "band"),
    [
        (1, "1-9"),
        (49, "10-49"),
        (50, "50-199"),
        (999, "200-999"),
        (5000, "5000+"),
        ("250", "200-999"),
        (None, "unknown"),
        (True, "unknown"),
    ],
)
def test_employee_bands(employees, band):
    assert employee_band(employees) == band


# --- the replay finds the moments the live functions find, evaluated at every moment ---------------------------

DEFINITIONS = {"test": DEFINITION, "example": make_definition(example_doc())}
ACCOUNTS = [
    GOOD_ACCOUNT,
    {"industry": "manufacturing", "employees": 850, "country": "DE", "domain": "acme.com"},
    {"industry": "retail", "employees": 30, "country": "BR", "domain": "acme.com", "is_customer": False},
]
KINDS = [
    ("demo_request", None, ()), ("contact_sales", None, ()), ("webinar_attended", None, ()), ("email_open", None, ()),
    ("email_open", None, ()), ("email_click", None, ()), ("page_view", "web", ("careers",)), ("page_view", "web", ()),
    ("content_download", None, ("whitepaper",)), ("pricing_page_view", None, ()), ("page_view", "paid_social", ()),
    ("unsubscribe", None, ()), ("event_badge_scan", None, ()),
]  # fmt: skip
# Weighted towards what earns many points, so that buying committees and the MQL criteria are often reached.
HOT = [("webinar_attended", None, ())] * 4 + [("event_badge_scan", None, ()), ("pricing_page_view", None, ())] * 2
# Half-day slots from 10 days before the window: touches share instants, and some are history before `start`.
slots = st.integers(min_value=0, max_value=50).map(lambda slot: START + timedelta(days=slot / 2 - 10))


@st.composite
def contacts(draw, number: int) -> ContactHistory:
    """A contact with random touches and sales outcomes."""
    kinds = draw(st.lists(st.tuples(slots, st.sampled_from(KINDS + HOT)), max_size=14))
    touches = [
        Touch(f"t{number}-{i:02d}", moment, kind, channel, "q3-launch" if channel == "paid_social" else None, tags)
        for i, (moment, (kind, channel, tags)) in enumerate(kinds)
    ]
    outcomes = draw(
        st.lists(
            st.builds(
                Outcome,
                st.sampled_from(["rejected", "rejected", "accepted", "won"]),
                slots,
                st.sampled_from(["bad_timing", "duplicate", "not_listed", None]),
            ),
            max_size=2,
        )
    )
    return contact(
        number,
        touches,
        title=draw(st.sampled_from(["VP Operations", "Director of IT", "Analyst", "Student"])),
        role=draw(st.sampled_from([None, "decision_maker", "champion"])),
        email=draw(st.sampled_from(["", "", "", None])),
        outcomes=tuple(outcomes),
        consent=Consent(marketing_consent=draw(st.sampled_from([None, None, True, False]))),
    )


@st.composite
def histories(draw) -> History:
    """One account of one to four contacts, or one contact without an account."""
    if draw(st.booleans()) and draw(st.booleans()):
        return History((AccountHistory(None, None, (draw(contacts(0)),)),))
    members = tuple(draw(contacts(number)) for number in range(draw(st.integers(1, 4))))
    return History((AccountHistory(ACCOUNT, draw(st.sampled_from(ACCOUNTS)), members),))


@pytest.mark.parametrize("name", DEFINITIONS)
@settings(deadline=None, max_examples=150)
@given(hist=histories())
def test_the_replay_finds_the_qualifications_of_evaluating_every_moment_with_the_live_functions(name, hist):
    definition = DEFINITIONS[name]

    assert moments(run(definition, hist)) == naive(definition, hist, START, END)


def test_worker_processes_find_what_one_process_finds():
    rng = random.Random(3)
    accounts = []
    for number in range(40):
        members = []
        for person in range(rng.randint(1, 5)):
            kinds = [rng.choice(KINDS) for _ in range(rng.randint(0, 15))]
            touches = [
                Touch(f"t{number}-{person}-{i}", at(rng.uniform(-10, 30)), kind, channel, None, tags)
                for i, (kind, channel, tags) in enumerate(kinds)
            ]
            members.append(contact(number * 10 + person, touches, role=rng.choice([None, "decision_maker"])))
        accounts.append(AccountHistory(uuid.UUID(int=number + 1), rng.choice(ACCOUNTS), tuple(members)))
    hist = History(tuple(accounts))

    alone = simulate(DEFINITIONS["example"], hist, start=START, end=END)
    forked = simulate(DEFINITIONS["example"], hist, start=START, end=END, workers=2, progress_every=40)

    assert forked == alone
    assert alone.qualifications
