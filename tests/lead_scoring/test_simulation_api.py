"""Simulating a draft on stored history through the API, under `leadflow up` (SQLite, SQL event log)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.lead_scoring.simulation.api import router
from tests.lead_scoring.test_definition_api import example_document
from tests.lead_scoring.test_journey_local import DANA, DEMO_REQUEST, IDENTIFY, publish, wait_for

WINDOW = {"start": "2026-11-01T00:00:00Z", "end": "2026-11-03T00:00:00Z"}


@pytest.fixture
def api(local_api):
    """The local API with the simulation routes (bootstrap mounts them once the lead engineer wires them)."""
    app = local_api.client.app
    if not any(getattr(route, "path", "") == "/v1/definitions/{definition_id}/simulate" for route in app.routes):
        app.include_router(router)
    return local_api


def dana_is_an_mql(api) -> dict[str, Any]:
    """Dana (VP Operations at a mid-sized manufacturer) asks for a demo under the published example."""
    publish(api)
    for call in (IDENTIFY, DEMO_REQUEST):
        assert api.call("POST", "/v1/touches", "marketing_automation", json=call).status_code == 202
    return wait_for(
        lambda: (
            (r := api.call("GET", f"/v1/leads/{DANA}", "sales_ops")).status_code == 200
            and r.json()["stage"] == "mql"
            and r.json()
        )
    )


def draft(api, document: dict[str, Any]) -> str:
    """A new draft; its id."""
    response = api.call("POST", "/v1/definitions", "marketing_ops", json={"document": document})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_draft_without_the_demo_fast_lane_drops_the_lead_that_qualified_by_asking_for_a_demo(api) -> None:
    dana_is_an_mql(api)
    document = example_document()
    document["hand_raisers"] = []
    draft_id = draft(api, document)

    response = api.call("POST", f"/v1/definitions/{draft_id}/simulate", "manager", json=WINDOW)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["touches"] == 1
    published, simulated = body["published"], body["draft"]
    assert (published["version"], published["status"], published["leads"]) == (1, "published", 1)
    [qualified] = published["qualifications"]
    assert (qualified["contact_id"], qualified["reason"], qualified["at"]) == (
        str(DANA),
        "hand_raiser",
        "2026-11-02T09:05:00Z",
    )
    assert published["per_week"] == {"2026-W45": 1}
    assert published["per_segment"] == {
        "account.industry": {"manufacturing": 1},
        "account.employee_band": {"200-999": 1},
    }
    assert (simulated["definition_id"], simulated["status"], simulated["mqls"]) == (draft_id, "draft", 0)
    assert [lead["contact_id"] for lead in body["dropped"]] == [str(DANA)]
    assert body["newly_qualified"] == []
    assert simulated["quality"]["precision"] is None  # sales has not said anything yet


def test_simulating_the_published_definition_changes_nothing_and_segments_by_the_attribute_asked(api) -> None:
    published = dana_is_an_mql(api)
    definitions = api.call("GET", "/v1/definitions", "manager").json()
    in_force = next(row["id"] for row in definitions if row["status"] == "published")

    response = api.call(
        "POST", f"/v1/definitions/{in_force}/simulate", "sales_ops", json={**WINDOW, "segment": "account.country"}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["draft"]["leads"] == body["published"]["leads"] == 1
    assert body["dropped"] == body["newly_qualified"] == []
    assert body["draft"]["per_segment"] == {"account.country": {"de": 1}}
    assert published["definition_version"] == 1


def test_an_unknown_definition_is_a_404_problem(api) -> None:
    response = api.call("POST", f"/v1/definitions/{uuid.uuid4()}/simulate", "marketing_ops", json=WINDOW)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_a_window_ending_before_it_starts_is_a_422_problem_naming_the_field(api) -> None:
    draft_id = draft(api, example_document())
    window = {"start": WINDOW["end"], "end": WINDOW["start"]}

    response = api.call("POST", f"/v1/definitions/{draft_id}/simulate", "marketing_ops", json=window)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "end"


def test_a_naive_time_is_refused(api) -> None:
    draft_id = draft(api, example_document())

    response = api.call(
        "POST", f"/v1/definitions/{draft_id}/simulate", "marketing_ops", json={**WINDOW, "start": "2026-11-01T00:00:00"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "start"


def test_a_rep_may_not_simulate(api) -> None:
    draft_id = draft(api, example_document())

    assert api.call("POST", f"/v1/definitions/{draft_id}/simulate", "rep", json=WINDOW).status_code == 403


def test_the_simulation_lists_each_rule_with_its_hits_and_a_rule_on_a_path_never_seen_with_none(api) -> None:
    dana_is_an_mql(api)
    document = example_document()
    document["fit"]["rules"].append(
        {"id": "fit.occupation", "when": {"field": "contact.custom.occupation", "eq": "Student"}, "points": -30}
    )
    draft_id = draft(api, document)

    body = api.call("POST", f"/v1/definitions/{draft_id}/simulate", "manager", json=WINDOW).json()

    rules = {rule["rule_id"]: rule for rule in body["draft"]["rules"]}
    assert rules["fit.occupation"] == {
        "rule_id": "fit.occupation",
        "kind": "fit",
        "contacts": 0,
        "touches": None,
        "never_fired": True,
    }
    assert "fit.occupation" in body["draft"]["never_fired"]
    assert rules["fit.senior_title"]["contacts"] == 1
    assert (rules["eng.demo_request"]["contacts"], rules["eng.demo_request"]["touches"]) == (1, 1)
    assert "fit.occupation" not in {rule["rule_id"] for rule in body["published"]["rules"]}
