"""The explanation says the stage the lead reads: a sticky MQL, a lead sales disqualified, a qualification on hold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.lead_scoring.scoring.explanation import explain
from services.lead_scoring.scoring.lifecycle import LeadState, Verdict, next_state
from services.lead_scoring.scoring.rules import decide_stage
from tests.lead_scoring.builders import NOW, touch
from tests.lead_scoring.test_scoring import DEFINITION, alone, score

ENGAGED = score(touches=[touch("w", 1, "webinar_attended")])  # engaged, short of an MQL
MQL_ENOUGH = score(touches=[touch("d", 1, "demo_request")])  # a hand-raiser with a good fit


def explained(
    previous: LeadState | None, result=ENGAGED, *, has_email: bool = True
) -> tuple[LeadState, dict[str, Any]]:
    """The lead's next state and its explanation, as the handler stores them."""
    account = alone(result)
    verdict = Verdict(result, account, decide_stage(DEFINITION, result, account))
    state = next_state(previous, verdict, has_email=has_email, now=NOW).state
    return state, explain(DEFINITION, result, account, verdict.decision, state)


def stored(stage: str, reason: str, **fields) -> LeadState:
    """A stored lead scored under version 2."""
    return LeadState(stage, reason, 50.0, "A", 40.0, 40.0, 2, **fields)  # type: ignore[arg-type]


def test_an_mql_that_the_scores_no_longer_qualify_is_explained_as_the_mql_it_is() -> None:
    qualified_at = NOW - timedelta(days=20)
    previous = stored("mql", "criteria", qualification_cycle=1, mql_at=qualified_at, mql_version=2)

    state, explanation = explained(previous)

    assert state.stage == explanation["stage"] == "mql"
    assert explanation["reason"] == "criteria"
    assert explanation["explanation"].startswith(f"mql: qualified under version 2 at {qualified_at.isoformat()}")
    assert explanation["qualified"] == {"definition_version": 2, "at": qualified_at.isoformat()}
    assert explanation["scores_say"]["stage"] == "engaged"


def test_a_lead_sales_disqualified_is_explained_as_disqualified_whatever_its_scores() -> None:
    state, explanation = explained(stored("disqualified", "sales_disqualified"))

    assert state.stage == explanation["stage"] == "disqualified"
    assert explanation["explanation"].startswith("disqualified (sales_disqualified): a person decided")


def test_a_qualification_on_hold_says_why() -> None:
    state, explanation = explained(None, MQL_ENOUGH, has_email=False)

    assert (
        (state.stage, state.reason)
        == (explanation["stage"], explanation["reason"])
        == (
            "engaged",
            "qualification_on_hold",
        )
    )
    assert "no email to reach" in explanation["explanation"]
    assert explanation["scores_say"]["stage"] == "mql"


def test_a_lead_that_qualifies_now_names_this_version_and_time() -> None:
    state, explanation = explained(None, MQL_ENOUGH)

    assert state.stage == explanation["stage"] == "mql"
    assert explanation["qualified"] == {"definition_version": 3, "at": NOW.isoformat()}
    assert "scores_say" not in explanation
