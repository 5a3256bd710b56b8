"""The lead_scoring journey under `leadflow up` (SQLite, SQL event log): identify + track to an explained MQL."""

from __future__ import annotations

import time
import uuid
from typing import Any

from services.lead_scoring.matching.resolve import NAMESPACE
from tests.lead_scoring.test_definition_api import example_document


def publish(api, document: dict[str, Any] | None = None) -> dict[str, Any]:
    """Draft, approve on both sides, publish."""
    draft = api.call("POST", "/v1/definitions", "marketing_ops", json={"document": document or example_document()})
    assert draft.status_code == 201, draft.text
    for role in ("marketing_ops", "sales_ops"):
        api.call("POST", f"/v1/definitions/{draft.json()['id']}/approvals", role, json={"revision": 1})
    published = api.call("POST", f"/v1/definitions/{draft.json()['id']}/publish", "sales_ops", json={})
    assert published.status_code == 200, published.text
    return dict(published.json())


def wait_for(check, timeout_s: float = 20) -> Any:
    """Poll `check()` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def segment(kind: str, message_id: str, timestamp: str, **fields: Any) -> dict[str, Any]:
    """A Segment call as analytics.js sends it."""
    return {"type": kind, "messageId": message_id, "timestamp": timestamp, "userId": "u-dana", **fields}


IDENTIFY = segment(
    "identify",
    "m-1",
    "2026-11-02T09:00:00Z",
    traits={
        "email": "Dana.Whitfield+news@acme-robotics.com",
        "firstName": "Dana",
        "lastName": "Whitfield",
        "title": "VP Operations",
        "company": {"name": "Acme Robotics GmbH", "industry": "manufacturing", "employee_count": 850},
        "country": "DE",
    },
)
DEMO_REQUEST = segment("track", "m-2", "2026-11-02T09:05:00Z", event="Demo Requested", properties={"plan": "growth"})
DANA = uuid.uuid5(NAMESPACE, "contact:dana.whitfield@acme-robotics.com")


def test_segment_identify_and_track_lead_to_an_explained_mql(local_api) -> None:
    publish(local_api)
    for call in (IDENTIFY, DEMO_REQUEST):
        response = local_api.call("POST", "/v1/touches", "marketing_automation", json=call)
        assert response.status_code == 202, response.text

    lead = wait_for(
        lambda: (
            (r := local_api.call("GET", f"/v1/leads/{DANA}", "sales_ops")).status_code == 200
            and r.json()["stage"] == "mql"
            and r.json()
        )
    )
    explanation = local_api.call("GET", f"/v1/leads/{DANA}/explanation", "sales_ops").json()

    assert lead["email"] == "dana.whitfield@acme-robotics.com"
    assert lead["qualification_cycle"] == 1
    assert explanation["definition"]["version"] == 1
    assert explanation["reason"] == "hand_raiser"
    fit = {hit["rule_id"]: hit["points"] for hit in explanation["fit"]["hits"]}
    assert fit["fit.industry"] == 20
    assert fit["fit.size"] == 20
    assert fit["fit.senior_title"] == 25
    engagement = {hit["rule_id"]: hit for hit in explanation["engagement"]["hits"]}
    assert engagement["eng.demo_request"]["raw_points"] == 30
    assert explanation["hand_raisers"][0]["rule_id"] == "hr.demo_request"


def test_touches_before_a_definition_are_kept_and_scored_on_publication(local_api) -> None:
    for call in (IDENTIFY, DEMO_REQUEST):
        assert local_api.call("POST", "/v1/touches", "marketing_automation", json=call).status_code == 202
    time.sleep(1)
    assert local_api.call("GET", f"/v1/leads/{DANA}", "sales_ops").status_code == 404

    publish(local_api)

    lead = wait_for(lambda: (r := local_api.call("GET", f"/v1/leads/{DANA}", "rep")).status_code == 200 and r.json())
    assert lead["definition_version"] == 1
    jobs = wait_for(
        lambda: [job for job in local_api.call("GET", "/v1/definitions/rescores", "manager").json() if job["done"]]
    )
    assert jobs[0]["done"] == jobs[0]["total"] == 1


def test_an_ingest_batch_with_a_bad_item_keeps_the_good_ones_and_names_the_field(local_api) -> None:
    bad = segment("track", "m-9", "2026-11-02T09:06:00Z", event="Demo Requested", userId=None)
    bad.pop("userId")
    response = local_api.call(
        "POST", "/v1/touches", "marketing_automation", json={"batch": [IDENTIFY, bad, DEMO_REQUEST]}
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert [item["index"] for item in body["accepted"]] == [0, 2]
    assert body["rejected"][0]["index"] == 1
    assert body["rejected"][0]["field"].startswith("batch[1]")
