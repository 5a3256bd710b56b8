"""The routing API under `leadflow up` settings: roles, ETag and If-Match, audited rep edits, validation."""

from __future__ import annotations

from typing import Any

import pytest

from services.handoff.org.document import rep_id
from tests.conftest import ApiClient
from tests.handoff.org.documents import small

PROBLEM = "application/problem+json"


def put(api: ApiClient, document: dict[str, Any], role: str = "sales_ops", **headers: str) -> Any:
    return api.client.put("/v1/routing", json=document, headers={**api.as_(role), **headers})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/routing"),
        ("PUT", "/v1/routing"),
        ("POST", "/v1/routing/validate"),
        ("GET", "/v1/routing/reps"),
        ("PATCH", "/v1/routing/reps/ana@acme.example"),
        ("GET", "/v1/routing/audit"),
    ],
)
def test_no_token_is_401(local_api: ApiClient, method: str, path: str) -> None:
    response = local_api.client.request(method, path, json={})

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("rep", "GET", "/v1/routing", False),
        ("marketing_ops", "GET", "/v1/routing/reps", False),
        ("manager", "GET", "/v1/routing", True),
        ("manager", "GET", "/v1/routing/audit", True),
        ("manager", "PUT", "/v1/routing", False),
        ("manager", "PATCH", "/v1/routing/reps/ana@acme.example", False),
        ("rep", "POST", "/v1/routing/validate", False),
        ("sales_ops", "PUT", "/v1/routing", True),
        ("admin", "PATCH", "/v1/routing/reps/ana@acme.example", True),
    ],
)
def test_managers_read_sales_ops_and_admins_write(
    local_api: ApiClient, role: str, method: str, path: str, allowed: bool
) -> None:
    assert put(local_api, small()).status_code == 200
    body = {"weight": 2} if method == "PATCH" else small()

    response = local_api.call(method, path, role, json=body)

    assert (response.status_code == 403) is not allowed, response.text
    if not allowed:
        assert response.json()["detail"].endswith(f"you are {role}")


def test_put_then_get_answers_the_document_its_version_and_etag(local_api: ApiClient) -> None:
    saved = put(local_api, small())
    assert saved.status_code == 200
    assert saved.headers["ETag"] == '"v1"'
    assert saved.json()["changes"] == ["initial configuration: 2 teams, 5 reps, 3 rules, 2 calendars"]

    response = local_api.call("GET", "/v1/routing", "manager")

    assert response.status_code == 200
    assert response.headers["ETag"] == '"v1"'
    body = response.json()
    assert (body["version"], body["saved_by"]) == (1, "test-sales_ops")
    assert body["document"]["rules"][1]["conditions"] == [{"field": "region", "in": ["EMEA"]}]


def test_get_before_any_import_is_404(local_api: ApiClient) -> None:
    response = local_api.call("GET", "/v1/routing", "manager")

    assert response.status_code == 404
    assert "no routing configuration is saved yet" in response.json()["detail"]


def test_a_stale_if_match_is_412_and_saves_nothing(local_api: ApiClient) -> None:
    put(local_api, small())
    changed = small()
    changed["reps"][2]["weight"] = 4
    assert put(local_api, changed, **{"If-Match": '"v1"'}).headers["ETag"] == '"v2"'

    stale = put(local_api, small(), **{"If-Match": '"v1"'})

    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    assert stale.json()["detail"] == "you edited version 1, but version 2 is in force: reload and retry"
    assert stale.json()["current_version"] == 2
    assert local_api.call("GET", "/v1/routing", "manager").json()["version"] == 2


def test_an_if_match_that_is_no_etag_is_412(local_api: ApiClient) -> None:
    put(local_api, small())

    response = put(local_api, small(), **{"If-Match": "version one"})

    assert response.status_code == 412
    assert "is not an ETag of this API" in response.json()["detail"]


def test_an_invalid_document_is_422_naming_the_rule_and_field(local_api: ApiClient) -> None:
    document = small()
    document["rules"][1]["target"] = {"kind": "pool", "team": "apac"}
    document["reps"][1]["weight"] = -1

    response = put(local_api, document)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    errors = response.json()["errors"]
    assert {
        "field": "reps.1.weight",
        "message": "rep ana@acme.example: weight: Input should be greater than 0",
    } in errors
    document["reps"][1]["weight"] = 1
    errors = put(local_api, document).json()["errors"]
    assert errors == [{"field": "rules.1.target.team", "message": "rule 2 (EMEA): target.team: unknown team 'apac'"}]
    assert local_api.call("GET", "/v1/routing", "manager").status_code == 404  # nothing saved


def test_validate_lists_problems_and_changes_without_saving(local_api: ApiClient) -> None:
    put(local_api, small())
    document = small()
    document["reps"][2]["active"] = False
    bad = small()
    bad["reps"][2]["team"] = "apac"

    good = local_api.call("POST", "/v1/routing/validate", "sales_ops", json=document).json()
    wrong = local_api.call("POST", "/v1/routing/validate", "sales_ops", json=bad).json()

    assert good == {
        "valid": True,
        "errors": [],
        "against_version": 1,
        "changes": ["rep ben@acme.example active true -> false"],
    }
    assert wrong["valid"] is False
    assert wrong["errors"][0]["field"] == "reps.2.team"
    assert local_api.call("GET", "/v1/routing", "manager").json()["version"] == 1


def test_patching_a_rep_saves_an_audited_version(local_api: ApiClient) -> None:
    put(local_api, small())
    absence = {"start": "2026-08-03T00:00:00Z", "end": "2026-08-17T00:00:00Z", "note": "holiday"}

    response = local_api.client.patch(
        "/v1/routing/reps/Ben@ACME.example",
        json={"weight": 1, "max_open": 5, "out_of_office": [absence]},
        headers={**local_api.as_("sales_ops", "ops-lead@acme.example"), "If-Match": '"v1"'},
    )

    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"v2"'
    body = response.json()
    assert body["changes"] == [
        "rep ben@acme.example max_open 20 -> 5",
        "rep ben@acme.example weight 2.0 -> 1.0",
        "rep ben@acme.example out_of_office + {start: 2026-08-03T00:00:00Z, end: 2026-08-17T00:00:00Z, note: holiday}",
    ]
    assert body["rep"]["id"] == str(rep_id("ben@acme.example"))
    assert (body["rep"]["weight"], body["rep"]["manager"]) == (1.0, "mia@acme.example")
    audit = local_api.call("GET", "/v1/routing/audit", "manager").json()
    assert [(entry["version"], entry["actor"], entry["action"]) for entry in audit["entries"]] == [
        (2, "ops-lead@acme.example", "rep.update"),
        (1, "test-sales_ops", "replace"),
    ]
    assert audit["entries"][0]["changes"] == body["changes"]
    reps = local_api.call("GET", "/v1/routing/reps", "manager").json()
    assert reps["version"] == 2
    assert [rep["weight"] for rep in reps["reps"] if rep["email"] == "ben@acme.example"] == [1.0]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"weight": 0}, 422, "weight"),
        ({"weight": None}, 422, "weight"),
        ({"colour": "red"}, 422, "colour"),
        ({"out_of_office": [{"start": "2026-08-03T00:00:00Z", "end": "2026-08-01T00:00:00Z"}]}, 422, "out_of_office.0"),
    ],
)
def test_a_bad_rep_change_is_422_naming_the_field(
    local_api: ApiClient, body: dict[str, Any], status: int, field: str
) -> None:
    put(local_api, small())

    response = local_api.call("PATCH", "/v1/routing/reps/ben@acme.example", "sales_ops", json=body)

    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field


def test_patching_an_unknown_rep_or_before_any_import_is_404(local_api: ApiClient) -> None:
    before = local_api.call("PATCH", "/v1/routing/reps/ben@acme.example", "sales_ops", json={"active": False})
    put(local_api, small())
    unknown = local_api.call("PATCH", "/v1/routing/reps/zoe@acme.example", "sales_ops", json={"active": False})

    assert before.status_code == unknown.status_code == 404
    assert unknown.json()["detail"] == "no rep zoe@acme.example in routing version 1"


def test_the_audit_pages_newest_first(local_api: ApiClient) -> None:
    put(local_api, small())
    for weight in (2, 3, 4):
        local_api.call("PATCH", "/v1/routing/reps/nia@acme.example", "sales_ops", json={"weight": weight})

    first = local_api.call("GET", "/v1/routing/audit?limit=3", "manager").json()
    rest = local_api.call("GET", f"/v1/routing/audit?limit=3&before={first['next_cursor']}", "manager").json()

    assert [entry["version"] for entry in first["entries"]] == [4, 3, 2]
    assert [entry["version"] for entry in rest["entries"]] == [1]
    assert rest["next_cursor"] is None
