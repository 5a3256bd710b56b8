"""Under `leadflow up` (SQLite, SQL event log, every service): a raw lead's touches show its enrollment and the
next step's due time through the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from database.engine import make_engine
from tests.conftest import ApiClient
from tests.lead_scoring.test_journey_local import DANA, IDENTIFY, publish, wait_for
from tests.nurture_flow.support import AWARENESS, store_tracks

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def test_a_raw_lead_s_touches_show_its_enrollment_and_next_due_time(local_api: ApiClient) -> None:
    url = local_api.client.app.state.settings.database_url
    store_tracks(make_engine(url), AWARENESS)  # as `leadflow nurture tracks load` would (see the report)
    publish(local_api)
    assert local_api.call("POST", "/v1/touches", "marketing_automation", json=IDENTIFY).status_code == 202

    def enrolled() -> list[dict[str, object]]:
        answer = local_api.call("GET", f"/v1/nurture/enrollments?lead_id={DANA}", "marketing_ops")
        return list(answer.json()["items"]) if answer.status_code == 200 else []

    [enrollment] = wait_for(enrolled)
    assert (enrollment["track_key"], enrollment["status"], enrollment["entry_reason"]) == (
        "awareness",
        "active",
        "new_raw_lead",
    )
    due = datetime.fromisoformat(enrollment["next_step"]["due_at"])
    if not enrollment["history"]:  # the welcome is due an hour after the touch
        assert (enrollment["next_step"]["step"], due) == (1, datetime.fromisoformat(enrollment["enrolled_at"]) + HOUR)
    else:  # the scheduler runs on the wall clock: the touch's hour has long passed, the welcome went at once
        [welcome] = enrollment["history"]
        assert (welcome["step_id"], welcome["outcome"]) == ("welcome", "sent")
        assert (enrollment["next_step"]["step"], due) == (2, datetime.fromisoformat(welcome["at"]) + 2 * DAY)
    by_email = local_api.call("GET", "/v1/nurture/enrollments?email=dana.whitfield@acme-robotics.com", "sales_ops")
    assert [item["enrollment_id"] for item in by_email.json()["items"]] == [enrollment["enrollment_id"]]
    missing = local_api.call("GET", "/v1/nurture/enrollments", "marketing_ops")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "lead_id"
    stats = local_api.call("GET", "/v1/nurture/tracks/awareness/stats", "manager").json()
    assert (stats["enrolled"], stats["active"]) == (1, 1)
