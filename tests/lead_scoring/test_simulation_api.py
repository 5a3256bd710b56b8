"""Simulating a draft on stored history through the API, under `leadflow up` (SQLite, SQL event log).

A simulation is a job: POST answers 202 with it and its `Location`, and the job is polled until it ends.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.lead_scoring.models import SimulationJob
from services.lead_scoring.simulation.jobs import MAX_ATTEMPTS
from tests.lead_scoring.test_definition_api import example_document
from tests.lead_scoring.test_journey_local import DANA, DEMO_REQUEST, IDENTIFY, publish, wait_for

WINDOW = {"start": "2026-11-01T00:00:00Z", "end": "2026-11-03T00:00:00Z"}


@pytest.fixture
def api(local_api):
    """The local API (its simulation runner runs in the background, as under `leadflow up`)."""
    return local_api


def simulated(api, definition_id: str, role: str = "manager", window: dict[str, Any] = WINDOW) -> dict[str, Any]:
    """Ask for a simulation and poll its job until it ends; the job as it ended."""
    asked = api.call("POST", f"/v1/definitions/{definition_id}/simulate", role, json=window)
    assert asked.status_code == 202, asked.text
    return ended(api, asked.headers["location"])


def ended(api, location: str) -> dict[str, Any]:
    """Poll a simulation job until it is done or failed."""
    return wait_for(
        lambda: (job := api.call("GET", location, "manager").json())["status"] in ("done", "failed") and job
    )


def result_of(api, definition_id: str, role: str = "manager", window: dict[str, Any] = WINDOW) -> dict[str, Any]:
    """The comparison a finished simulation kept."""
    job = simulated(api, definition_id, role, window)
    assert job["status"] == "done", job
    return dict(job["result"])


def stored_job(api, definition_id: str, **columns: Any) -> str:
    """A job row written as a runner (or a dead one) would have left it; its id."""
    now = datetime.now(UTC)
    job = SimulationJob(
        id=uuid.uuid4(),
        definition_id=uuid.UUID(definition_id),
        window_start=datetime(2026, 11, 1, tzinfo=UTC),
        window_end=datetime(2026, 11, 3, tzinfo=UTC),
        requested_by="test-manager",
        created_at=now,
        **{"status": "pending", "done": 0, "total": 0, "attempts": 0, **columns},
    )
    with api.client.app.state.context.log.unit_of_work() as uow:
        uow.session.add(job)
        uow.commit()
    return str(job.id)


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

    body = result_of(api, draft_id)

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

    body = result_of(api, in_force, "sales_ops", {**WINDOW, "segment": "account.country"})

    assert body["draft"]["leads"] == body["published"]["leads"] == 1
    assert body["dropped"] == body["newly_qualified"] == []
    assert body["draft"]["per_segment"] == {"account.country": {"de": 1}}
    assert published["definition_version"] == 1


def test_an_unknown_definition_is_a_404_problem_and_no_job(api) -> None:
    unknown = uuid.uuid4()

    response = api.call("POST", f"/v1/definitions/{unknown}/simulate", "marketing_ops", json=WINDOW)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"no lead definition {unknown}"
    listed = api.call("GET", f"/v1/definitions/{unknown}/simulations", "manager")
    assert (listed.status_code, listed.headers["content-type"]) == (404, "application/problem+json")


def test_asking_for_a_simulation_answers_202_with_the_pending_job_and_where_to_follow_it(api) -> None:
    draft_id = draft(api, example_document())

    response = api.call("POST", f"/v1/definitions/{draft_id}/simulate", "marketing_ops", json=WINDOW)

    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/definitions/{draft_id}/simulations/{job['id']}"
    assert (job["definition_id"], job["status"], job["phase"], job["done"], job["total"]) == (
        draft_id,
        "pending",
        None,
        0,
        0,
    )
    assert (job["start"], job["end"], job["requested_by"], job["result"]) == (
        "2026-11-01T00:00:00Z",
        "2026-11-03T00:00:00Z",
        "test-marketing_ops",
        None,
    )
    assert job["created_at"] is not None
    assert job["started_at"] is None


def test_a_finished_simulation_keeps_its_result_identical_on_a_second_get_and_lists_without_it(api) -> None:
    dana_is_an_mql(api)
    draft_id = draft(api, example_document())
    asked = api.call("POST", f"/v1/definitions/{draft_id}/simulate", "manager", json=WINDOW)

    first = ended(api, asked.headers["location"])
    second = api.call("GET", asked.headers["location"], "sales_ops").json()

    assert first == second
    assert (first["status"], first["phase"], first["attempts"], first["error"]) == ("done", None, 1, None)
    assert first["done"] == first["total"] == 2  # one touch, replayed under the draft and the version in force
    assert first["started_at"] <= first["finished_at"]
    assert first["result"]["draft"]["leads"] == first["result"]["published"]["leads"] == 1
    [listed] = api.call("GET", f"/v1/definitions/{draft_id}/simulations", "manager").json()
    assert listed == {**first, "result": None}


def test_a_running_simulation_shows_its_phase_and_touches_done_of_total(api) -> None:
    draft_id = draft(api, example_document())
    lease = datetime.now(UTC) + timedelta(hours=1)  # its runner is alive: no other takes it
    job_id = stored_job(
        api, draft_id, status="running", phase="replaying", done=30_000, total=120_000, attempts=1, lease_until=lease
    )

    job = api.call("GET", f"/v1/definitions/{draft_id}/simulations/{job_id}", "manager").json()

    assert (job["status"], job["phase"], job["done"], job["total"], job["result"]) == (
        "running",
        "replaying",
        30_000,
        120_000,
        None,
    )


def test_a_simulation_left_running_by_a_runner_that_died_is_taken_again_and_finishes(api) -> None:
    dana_is_an_mql(api)
    draft_id = draft(api, example_document())
    lapsed = datetime.now(UTC) - timedelta(minutes=5)  # the runner stopped renewing its lease
    job_id = stored_job(
        api, draft_id, status="running", phase="replaying", done=1, total=2, attempts=1, lease_until=lapsed
    )

    job = ended(api, f"/v1/definitions/{draft_id}/simulations/{job_id}")

    assert (job["status"], job["attempts"], job["done"], job["total"]) == ("done", 2, 2, 2)
    assert job["result"]["draft"]["leads"] == 1


def test_a_simulation_whose_runner_died_every_time_ends_failed_saying_so(api) -> None:
    draft_id = draft(api, example_document())
    lapsed = datetime.now(UTC) - timedelta(minutes=5)
    job_id = stored_job(api, draft_id, status="running", attempts=MAX_ATTEMPTS, lease_until=lapsed)

    job = ended(api, f"/v1/definitions/{draft_id}/simulations/{job_id}")

    assert job["status"] == "failed"
    assert job["error"] == f"given up after {MAX_ATTEMPTS} attempts: its runner stopped each time"


def test_a_simulation_of_a_draft_deleted_before_it_ran_ends_failed_naming_the_definition(api) -> None:
    draft_id = draft(api, example_document())
    job_id = stored_job(api, draft_id)  # asked for, then the draft deleted before a runner took the job
    assert api.call("DELETE", f"/v1/definitions/{draft_id}", "marketing_ops").status_code == 204

    job = ended(api, f"/v1/definitions/{draft_id}/simulations/{job_id}")

    assert (job["status"], job["error"], job["result"]) == ("failed", f"no lead definition {draft_id}", None)
    assert job["finished_at"] is not None


def test_an_unknown_simulation_is_a_404_problem(api) -> None:
    draft_id = draft(api, example_document())

    response = api.call("GET", f"/v1/definitions/{draft_id}/simulations/{uuid.uuid4()}", "manager")

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

    body = result_of(api, draft_id)

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
