"""Governance of the lead definition through the API, as marketing ops and sales ops use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def example_document() -> dict[str, Any]:
    """The shipped example definition, as JSON."""
    return dict(yaml.safe_load((ROOT / "config/lead_definition.example.yaml").read_text()))


def _draft(api, document=None) -> dict[str, Any]:
    response = api.call("POST", "/v1/definitions", "marketing_ops", json={"document": document or example_document()})
    assert response.status_code == 201, response.text
    return response.json()


def test_publishing_without_both_approvals_is_refused_naming_the_missing_one(local_api) -> None:
    draft = _draft(local_api)
    approved = local_api.call("POST", f"/v1/definitions/{draft['id']}/approvals", "marketing_ops", json={"revision": 1})
    assert approved.status_code == 200, approved.text
    assert approved.json()["missing_approvals"] == ["sales"]

    refused = local_api.call("POST", f"/v1/definitions/{draft['id']}/publish", "marketing_ops", json={})

    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["missing_approvals"] == ["sales"]
    assert "sales (sales_ops)" in problem["detail"]


def test_both_approvals_of_the_current_revision_publish_version_1(local_api) -> None:
    draft = _draft(local_api)
    for role in ("marketing_ops", "sales_ops"):
        local_api.call("POST", f"/v1/definitions/{draft['id']}/approvals", role, json={"revision": 1})

    published = local_api.call(
        "POST", f"/v1/definitions/{draft['id']}/publish", "sales_ops", json={"change_note": "first agreement"}
    )

    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["version"] == 1
    history = local_api.call("GET", f"/v1/definitions/{draft['id']}", "manager").json()["history"]
    assert [(entry["action"], entry["role"]) for entry in history] == [
        ("created", "marketing_ops"),
        ("approved_marketing", "marketing_ops"),
        ("approved_sales", "sales_ops"),
        ("published", "sales_ops"),
    ]


def test_an_edit_clears_both_approvals(local_api) -> None:
    draft = _draft(local_api)
    for role in ("marketing_ops", "sales_ops"):
        local_api.call("POST", f"/v1/definitions/{draft['id']}/approvals", role, json={"revision": 1})
    document = example_document()
    document["mql"]["min_engagement_score"] = 55

    edited = local_api.call("PUT", f"/v1/definitions/{draft['id']}", "sales_ops", json={"document": document})

    assert edited.json()["revision"] == 2
    assert edited.json()["missing_approvals"] == ["marketing", "sales"]
    stale = local_api.call("POST", f"/v1/definitions/{draft['id']}/approvals", "marketing_ops", json={"revision": 1})
    assert stale.status_code == 409
    assert stale.json()["current_revision"] == 2


def test_an_invalid_definition_is_refused_naming_the_rule_and_field(local_api) -> None:
    document = example_document()
    document["engagement"]["rules"][0]["half_life_days"] = -2

    response = local_api.call("POST", "/v1/definitions", "marketing_ops", json={"document": document})

    assert response.status_code == 422
    rule_id = document["engagement"]["rules"][0]["id"]
    assert any(rule_id in e["message"] and "half_life_days" in e["message"] for e in response.json()["errors"])


def test_a_rep_cannot_touch_the_definition(local_api) -> None:
    response = local_api.call("POST", "/v1/definitions", "rep", json={"document": example_document()})

    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_rollback_republishes_an_older_version_as_a_new_one(local_api) -> None:
    versions = []
    for engagement in (40, 60):
        document = example_document()
        document["mql"]["min_engagement_score"] = engagement
        draft = _draft(local_api, document)
        for role in ("marketing_ops", "sales_ops"):
            local_api.call("POST", f"/v1/definitions/{draft['id']}/approvals", role, json={"revision": 1})
        versions.append(local_api.call("POST", f"/v1/definitions/{draft['id']}/publish", "sales_ops", json={}).json())

    rolled = local_api.call("POST", "/v1/definitions/rollback", "marketing_ops", json={"version": 1})

    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["version"] == 3
    listed = {row["version"]: row["status"] for row in local_api.call("GET", "/v1/definitions", "manager").json()}
    assert listed == {1: "superseded", 2: "superseded", 3: "published"}
    document = local_api.call("GET", f"/v1/definitions/{rolled.json()['id']}", "manager").json()["document"]
    assert document["mql"]["min_engagement_score"] == 40


def test_a_draft_can_be_deleted_but_a_published_version_cannot(local_api) -> None:
    draft = _draft(local_api)
    published = _draft(local_api)
    for role in ("marketing_ops", "sales_ops"):
        local_api.call("POST", f"/v1/definitions/{published['id']}/approvals", role, json={"revision": 1})
    assert local_api.call("POST", f"/v1/definitions/{published['id']}/publish", "sales_ops", json={}).status_code == 200

    deleted = local_api.call("DELETE", f"/v1/definitions/{draft['id']}", "marketing_ops")
    refused = local_api.call("DELETE", f"/v1/definitions/{published['id']}", "sales_ops")

    assert deleted.status_code == 204
    assert local_api.call("GET", f"/v1/definitions/{draft['id']}", "manager").status_code == 404
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "only drafts can be deleted" in refused.json()["detail"]
