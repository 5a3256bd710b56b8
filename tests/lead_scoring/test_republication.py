"""Re-publication keeps MQLs honest: open MQLs a stricter version no longer qualifies are kept or returned to engaged,
as the version (approved by both sides) says, and the rescore counts each case."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from services.lead_scoring.scoring.lifecycle import NO_LONGER_QUALIFIES, LeadState, Transition, Verdict, republish
from services.lead_scoring.scoring.rules import StageDecision
from tests.lead_scoring.builders import NOW
from tests.lead_scoring.test_definition_api import example_document
from tests.lead_scoring.test_journey_local import DANA, DEMO_REQUEST, IDENTIFY, publish, wait_for

MQL = LeadState("mql", "hand_raiser", 40, "A", 30, 30, 1, qualification_cycle=1, mql_at=NOW, mql_version=1)


def _verdict(stage: str) -> Verdict:
    return Verdict(score=None, account=None, decision=StageDecision(stage, "criteria", ""))  # type: ignore[arg-type]


def _kept(state: LeadState = MQL) -> Transition:
    return Transition(replace(state, definition_version=2), "mql", True, False, False)


@pytest.mark.parametrize(
    ("decided", "accepted", "policy", "case", "stage"),
    [
        ("mql", False, "return_to_engaged", "still_qualified", "mql"),
        ("engaged", True, "return_to_engaged", "kept_accepted", "mql"),
        ("engaged", False, "keep", "kept_by_policy", "mql"),
        ("raw", False, "return_to_engaged", "returned_to_engaged", "engaged"),
    ],
)
def test_each_open_mql_falls_in_one_case(decided: str, accepted: bool, policy: str, case: str, stage: str) -> None:
    later = NOW + timedelta(days=3)

    moved, found = republish(MQL, _kept(), _verdict(decided), accepted=accepted, policy=policy, now=later)

    assert (found, moved.state.stage) == (case, stage)
    if case == "returned_to_engaged":
        assert moved.state.reason == NO_LONGER_QUALIFIES
        assert moved.state.cycle_started_at == later  # its cycle ended: hand-raises before it no longer count
        assert moved.changed
        assert not moved.qualified


def test_a_lead_that_is_no_open_mql_is_no_case() -> None:
    engaged = replace(MQL, stage="engaged", reason="criteria")
    transition = Transition(engaged, "engaged", False, False, False)

    assert republish(engaged, transition, _verdict("raw"), accepted=False, policy="return_to_engaged", now=NOW) == (
        transition,
        None,
    )


def _stricter(open_mqls: str) -> dict[str, Any]:
    document = example_document()
    document["hand_raisers"] = []  # a demo request alone no longer qualifies
    document["republication"] = {"open_mqls": open_mqls}
    return document


def _dana_qualifies_then(api, document: dict[str, Any]) -> dict[str, Any]:
    publish(api)
    for call in (IDENTIFY, DEMO_REQUEST):
        assert api.call("POST", "/v1/touches", "marketing_automation", json=call).status_code == 202
    wait_for(lambda: api.call("GET", f"/v1/leads/{DANA}", "sales_ops").json().get("stage") == "mql")
    published = publish(api, document)
    assert published["open_mqls"] == document["republication"]["open_mqls"]

    def rescored() -> Any:
        jobs = api.call("GET", "/v1/definitions/rescores", "manager").json()
        return next((job for job in jobs if job["definition_version"] == 2 and job["status"] == "done"), None)

    return dict(wait_for(rescored))


def test_a_stricter_version_that_returns_open_mqls_to_engaged_reads_engaged_in_the_lead_and_its_explanation(
    local_api,
) -> None:
    job = _dana_qualifies_then(local_api, _stricter("return_to_engaged"))

    lead = local_api.call("GET", f"/v1/leads/{DANA}", "sales_ops").json()
    explanation = local_api.call("GET", f"/v1/leads/{DANA}/explanation", "sales_ops").json()
    assert (lead["stage"], lead["reason"], lead["definition_version"]) == ("engaged", NO_LONGER_QUALIFIES, 2)
    assert (explanation["stage"], explanation["reason"]) == ("engaged", NO_LONGER_QUALIFIES)
    assert "version 2 no longer qualifies" in explanation["explanation"]
    assert explanation["definition"]["version"] == 2
    assert (job["mqls_returned_to_engaged"], job["mqls_kept_by_policy"], job["mqls_still_qualified"]) == (1, 0, 0)
    scored = local_api.call("GET", f"/v1/leads?email={lead['email']}", "sales_ops").json()["items"]
    assert [item["stage"] for item in scored] == ["engaged"]


def test_a_stricter_version_that_keeps_open_mqls_leaves_them_mqls_and_counts_them(local_api) -> None:
    job = _dana_qualifies_then(local_api, _stricter("keep"))

    lead = local_api.call("GET", f"/v1/leads/{DANA}", "sales_ops").json()
    explanation = local_api.call("GET", f"/v1/leads/{DANA}/explanation", "sales_ops").json()
    assert (lead["stage"], explanation["stage"]) == ("mql", "mql")
    assert (job["mqls_kept_by_policy"], job["mqls_returned_to_engaged"]) == (1, 0)
