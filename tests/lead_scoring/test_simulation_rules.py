"""The simulation counts, per rule, the contacts and touches it fired on, and flags the rules that never fire."""

from __future__ import annotations

from dataclasses import replace

from services.lead_scoring.definitions.document import parse_definition
from tests.lead_scoring.builders import base_doc
from tests.lead_scoring.test_simulation import contact, history, run, touch


def test_each_rule_counts_the_contacts_and_touches_it_fired_on_and_a_silent_rule_is_flagged() -> None:
    doc = base_doc()
    doc["fit"]["rules"].append(
        {"id": "occupation", "when": {"field": "contact.custom.occupation", "eq": "x"}, "points": 5}
    )
    definition = parse_definition(doc)
    hist = history(
        contact(1, [touch("a1", 1, "webinar_attended"), touch("a2", 2, "email_open"), touch("a3", 3, "email_open")]),
        contact(2, [touch("b1", 1, "email_open"), touch("b2", 2, "demo_request")], title="Analyst"),
        replace(
            student := contact(3, [], email="s@uni.edu"), attributes={**student.attributes, "email_domain": "uni.edu"}
        ),
    )

    result = run(definition, hist)

    hits = {hit.rule_id: (hit.kind, hit.contacts, hit.touches) for hit in result.rule_hits}
    assert [hit.rule_id for hit in result.rule_hits][:5] == ["industry", "size", "vp", "free_mail", "occupation"]
    assert hits["industry"] == ("fit", 3, None)  # every contact of the account, touched or not
    assert hits["vp"] == ("fit", 2, None)  # contacts 1 and 3
    assert hits["occupation"] == ("fit", 0, None)
    assert hits["webinar"] == ("engagement", 1, 1)
    assert hits["open"] == ("engagement", 2, 3)  # capped touches still fired
    assert hits["demo"] == ("engagement", 1, 1)
    assert hits["student"] == ("disqualifier", 1, None)
    assert hits["hand.demo"] == ("hand_raiser", 1, 1)
    never = {hit.rule_id for hit in result.rule_hits if hit.never_fired}
    assert never == {
        "free_mail",
        "occupation",
        "careers",
        "unsubscribe",
        "paid_launch",
        "competitor",
        "customer",
        "consent",
    }


def test_rule_hits_are_the_same_in_one_process_and_in_several() -> None:
    hist = history(*(contact(n, [touch(f"t{n}", n % 5, "email_open")]) for n in range(40)))
    definition = parse_definition(base_doc())

    one = run(definition, hist).rule_hits

    from services.lead_scoring.simulation.runner import simulate
    from tests.lead_scoring.test_simulation import END, START

    split = simulate(definition, hist, start=START, end=END, workers=2, progress_every=5).rule_hits
    assert one == split
