"""The nurture tracks API as marketing ops use it: create, validate, version, activate, pause, resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from database.engine import make_engine
from services.nurture.tracks import repository
from tests.conftest import ApiClient
from tests.nurture.builders import settings_doc, track_doc

TRACKS = "/v1/nurture/tracks"


def _settings(api: ApiClient) -> None:
    response = api.call("PUT", "/v1/nurture/settings", "marketing_ops", json={"document": settings_doc()})
    assert response.status_code == 200, response.text


def _create(api: ApiClient, doc: dict[str, Any] | None = None) -> Any:
    return api.call("POST", TRACKS, "marketing_ops", json={"document": doc or track_doc()})


@pytest.fixture
def api(local_api: ApiClient) -> ApiClient:
    _settings(local_api)
    return local_api


def test_a_track_is_created_as_a_draft_and_activated(api: ApiClient) -> None:
    created = _create(api)
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["status"]) == (1, "draft")

    activated = api.call("POST", f"{TRACKS}/awareness/activate", "marketing_ops")

    assert activated.status_code == 200
    assert (activated.json()["status"], activated.json()["status_by"]) == ("active", "test-marketing_ops")
    (listed,) = api.call("GET", TRACKS, "sales_ops").json()
    assert (listed["key"], listed["active_version"], listed["latest_version"], listed["steps"]) == (
        "awareness",
        1,
        1,
        4,
    )


def test_editing_an_active_track_makes_a_new_version_and_activation_retires_the_old(api: ApiClient) -> None:
    _create(api)
    api.call("POST", f"{TRACKS}/awareness/activate", "marketing_ops")
    edited = track_doc(name="Awareness, shorter")
    edited["steps"] = edited["steps"][:1]

    second = api.call("PUT", f"{TRACKS}/awareness", "marketing_ops", json={"document": edited})
    again = api.call("PUT", f"{TRACKS}/awareness", "marketing_ops", json={"document": edited})

    assert (second.json()["version"], second.json()["status"]) == (2, "draft")
    assert again.json()["version"] == 2  # the same document: no new version
    api.call("POST", f"{TRACKS}/awareness/activate", "marketing_ops")
    versions = api.call("GET", f"{TRACKS}/awareness", "manager").json()["versions"]
    assert [(row["version"], row["status"], row["steps"]) for row in versions] == [(1, "retired", 4), (2, "active", 1)]
    old = api.call("GET", f"{TRACKS}/awareness/versions/1", "manager").json()
    assert old["document"]["steps"][1]["id"] == "guide"  # an enrollment on v1 still reads its steps


def test_a_draft_is_edited_in_place(api: ApiClient) -> None:
    _create(api)
    edited = api.call("PUT", f"{TRACKS}/awareness", "marketing_ops", json={"document": track_doc(priority=99)})
    assert (edited.json()["version"], edited.json()["priority"]) == (1, 99)


def test_an_invalid_track_is_refused_naming_track_step_and_field(api: ApiClient) -> None:
    doc = track_doc()
    doc["steps"][1]["wait"]["business_days"] = 0

    response = _create(api, doc)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["detail"] == "track `awareness`, step 2 (`guide`): `wait.business_days` must be >= 1 (got 0)"
    assert body["errors"][0] | {"message": "-"} == {
        "field": "steps.2.wait.business_days",
        "message": "-",
        "track": "awareness",
        "step": 2,
        "step_id": "guide",
    }
    assert api.call("GET", TRACKS, "marketing_ops").json() == []


def test_validate_reports_problems_without_saving(api: ApiClient) -> None:
    doc = track_doc()
    doc["steps"][2]["next"] = "welcome"

    verdict = api.call("POST", f"{TRACKS}/validate", "marketing_ops", json={"document": doc}).json()
    good = api.call("POST", f"{TRACKS}/validate", "marketing_ops", json={"document": track_doc()}).json()

    assert verdict["valid"] is False
    assert verdict["errors"][0]["field"] == "steps.3.next"
    assert good == {"valid": True, "errors": []}
    assert api.call("GET", TRACKS, "marketing_ops").json() == []


def test_a_track_naming_a_calendar_the_settings_lack_is_refused(local_api: ApiClient) -> None:
    response = _create(local_api)  # no settings saved: no calendar `paris`
    assert response.status_code == 422
    assert "no calendar `paris` in the nurture settings" in response.json()["detail"]


def test_pause_and_resume(api: ApiClient) -> None:
    _create(api)
    assert api.call("POST", f"{TRACKS}/awareness/pause", "marketing_ops").status_code == 409  # a draft
    api.call("POST", f"{TRACKS}/awareness/activate", "marketing_ops")

    paused = api.call("POST", f"{TRACKS}/awareness/pause", "marketing_ops")
    listed = api.call("GET", TRACKS, "marketing_ops").json()[0]
    resumed = api.call("POST", f"{TRACKS}/awareness/resume", "marketing_ops")

    assert paused.json()["status"] == "paused"
    assert (listed["latest_status"], listed["active_version"]) == ("paused", None)
    assert resumed.json()["status"] == "active"


def test_conflicts_and_unknown_tracks(api: ApiClient) -> None:
    _create(api)
    assert _create(api).status_code == 409
    assert api.call("GET", f"{TRACKS}/nowhere", "marketing_ops").status_code == 404
    assert api.call("POST", f"{TRACKS}/nowhere/activate", "marketing_ops").status_code == 404
    assert api.call("GET", f"{TRACKS}/awareness/versions/7", "marketing_ops").status_code == 404
    other_key = api.call("PUT", f"{TRACKS}/awareness", "marketing_ops", json={"document": track_doc("other")})
    assert other_key.status_code == 422
    assert other_key.json()["errors"][0]["field"] == "key"


def test_only_marketing_ops_write_and_reps_do_not_read(api: ApiClient) -> None:
    assert api.call("POST", TRACKS, "sales_ops", json={"document": track_doc()}).status_code == 403
    assert api.call("GET", TRACKS, "rep").status_code == 403
    assert api.call("GET", TRACKS, "manager").status_code == 200
    assert api.client.get(TRACKS).status_code == 401


def test_settings_that_would_break_a_live_track_are_refused(api: ApiClient) -> None:
    _create(api)
    api.call("POST", f"{TRACKS}/awareness/activate", "marketing_ops")

    response = api.call("PUT", "/v1/nurture/settings", "marketing_ops", json={"document": settings_doc(calendars={})})

    assert response.status_code == 422
    assert response.json()["errors"][0]["track"] == "awareness"
    assert api.call("GET", "/v1/nurture/settings", "sales_ops").json()["version"] == 1


def test_the_repository_gives_the_flow_compiled_active_tracks_and_versions(api: ApiClient, tmp_path: Path) -> None:
    _create(api)
    api.call("POST", f"{TRACKS}/awareness/activate", "marketing_ops")
    _create(api, track_doc("consideration"))  # a draft: not active
    engine = make_engine(f"sqlite:///{tmp_path / 'up.db'}")

    with Session(engine) as session:
        active = repository.active_tracks(session)
        version_one = repository.compiled_version(session, "awareness", 1)

    assert [(track.key, track.version) for track in active] == [("awareness", 1)]
    assert version_one is not None
    assert version_one.step(2).wait.calendar is not None
