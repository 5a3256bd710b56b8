"""Under `leadflow up` (SQLite, SQL event log, every service): config/nurture_tracks.example.yaml loaded through the
tracks API, then a raw lead's touches show its enrollment and the next step's due time through the API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from services.nurture.tracks.compiled import compile_settings, compile_track
from services.nurture.tracks.timing import contact_zone, step_due
from tests.conftest import ApiClient
from tests.lead_scoring.test_journey_local import DANA, IDENTIFY, publish, wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "nurture_tracks.example.yaml"


def load_example(api: ApiClient) -> dict[str, Any]:
    """The example file as `leadflow nurture tracks load` sends it: the settings, then each track created and
    activated; the file, parsed."""
    document: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    settings = {name: value for name, value in document.items() if name != "tracks"}
    saved = api.call("PUT", "/v1/nurture/settings", "marketing_ops", json={"document": settings})
    assert saved.status_code == 200, saved.text
    for track in document["tracks"]:
        created = api.call("POST", "/v1/nurture/tracks", "marketing_ops", json={"document": track})
        assert created.status_code == 201, created.text
        activated = api.call("POST", f"/v1/nurture/tracks/{track['key']}/activate", "marketing_ops")
        assert activated.json()["status"] == "active", activated.text
    return document


def test_a_raw_lead_s_touches_show_its_enrollment_and_next_due_time(local_api: ApiClient) -> None:
    example = load_example(local_api)
    publish(local_api)
    assert local_api.call("POST", "/v1/touches", "marketing_automation", json=IDENTIFY).status_code == 202

    def enrolled() -> list[dict[str, Any]]:
        answer = local_api.call("GET", f"/v1/nurture/enrollments?lead_id={DANA}", "marketing_ops")
        return list(answer.json()["items"]) if answer.status_code == 200 else []

    [enrollment] = wait_for(enrolled)
    assert (enrollment["track_key"], enrollment["status"], enrollment["entry_reason"]) == (
        "awareness",
        "active",
        "new_raw_lead",
    )
    # The due time the API shows is the one the track's waits give, in the contact's zone (the default: Paris).
    settings = compile_settings({name: value for name, value in example.items() if name != "tracks"})
    awareness = compile_track(example["tracks"][0], settings)
    paris = contact_zone(None, settings)
    following, due = enrollment["next_step"], datetime.fromisoformat(enrollment["next_step"]["due_at"])
    enrolled_at = datetime.fromisoformat(enrollment["enrolled_at"])
    if not enrollment["history"]:  # the welcome waits for 10:00 in Paris
        assert (following["step_id"], due) == ("welcome", step_due(awareness.step(1).wait, enrolled_at, paris))
    else:  # the scheduler runs on the wall clock: the touch's morning has passed, the welcome came due at once
        welcome = enrollment["history"][-1]
        assert welcome["step_id"] == "welcome"
        if welcome["outcome"] == "deferred":  # at night in Paris: to the morning
            assert (following["step_id"], due) == ("welcome", datetime.fromisoformat(welcome["deferred_until"]))
        else:
            assert welcome["outcome"] == "sent"
            sent_at = datetime.fromisoformat(welcome["at"])
            assert (following["step_id"], due) == ("buyers-guide", step_due(awareness.step(2).wait, sent_at, paris))
    by_email = local_api.call("GET", "/v1/nurture/enrollments?email=dana.whitfield@acme-robotics.com", "sales_ops")
    assert [item["enrollment_id"] for item in by_email.json()["items"]] == [enrollment["enrollment_id"]]
    missing = local_api.call("GET", "/v1/nurture/enrollments", "marketing_ops")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "lead_id"
    stats = local_api.call("GET", "/v1/nurture/tracks/awareness/stats", "manager").json()
    assert (stats["enrolled"], stats["active"]) == (1, 1)
