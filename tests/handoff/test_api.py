"""The reps' API: who sees what, each action and its event, 409/412/422, Idempotency-Key, If-Match."""

from __future__ import annotations

import pytest

from tests.handoff.conftest import SalesApi
from tests.handoff.support import ANA, emitted, handoffs

EMAILS = {"ana": "ana@acme.example", "ben": "ben@acme.example", "mia": "mia@acme.example", "noah": "noah@acme.example"}


def holder(api: SalesApi) -> tuple[str, str, str]:
    """The handoff's id, the email of the rep who holds it and of the other emea rep."""
    row = handoffs(api.engine)[0]
    mine, other = ("ana", "ben") if row.rep_id == ANA else ("ben", "ana")
    return str(row.id), EMAILS[mine], EMAILS[other]


@pytest.mark.parametrize(
    ("who", "role", "status"),
    [
        (None, None, 401),
        ("ops@acme.example", "marketing_ops", 403),
        ("holder", "rep", 200),
        ("other", "rep", 404),
        ("mia@acme.example", "manager", 200),
        ("noah@acme.example", "manager", 404),
        ("ops@acme.example", "sales_ops", 200),
        ("stranger@else.example", "rep", 404),
    ],
)
def test_who_may_see_a_handoff(sales_api: SalesApi, who: str | None, role: str | None, status: int) -> None:
    handoff_id, mine, other = holder(sales_api)
    path = f"/v1/handoffs/{handoff_id}"
    if role is None:
        response = sales_api.client.get(path)
    else:
        subject = {"holder": mine, "other": other}.get(who or "", who or "")
        response = sales_api.by("GET", path, role, subject)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.headers["ETag"] == '"2"'
        assert response.json()["dossier"]["contact"]["email"] == "c1@acme.example"


def test_the_queue_shows_a_rep_their_own_and_a_manager_their_team(sales_api: SalesApi) -> None:
    handoff_id, mine, other = holder(sales_api)
    assert [h["handoff_id"] for h in sales_api.by("GET", "/v1/handoffs", "rep", mine).json()["handoffs"]] == [
        handoff_id
    ]
    assert sales_api.by("GET", "/v1/handoffs", "rep", other).json()["handoffs"] == []
    team = sales_api.by("GET", "/v1/handoffs?sla_state=on_track&sort=score", "manager", EMAILS["mia"]).json()
    assert [h["handoff_id"] for h in team["handoffs"]] == [handoff_id]
    assert sales_api.by("GET", "/v1/handoffs?status=accepted", "sales_ops", "ops@x.example").json()["handoffs"] == []


def test_accept_convert_close_each_emit_their_feedback_event(sales_api: SalesApi) -> None:
    handoff_id, mine, _ = holder(sales_api)
    path = f"/v1/handoffs/{handoff_id}"

    accepted = sales_api.by("POST", f"{path}/accept", "rep", mine, json={"note": "calling today"})
    converted = sales_api.by(
        "POST", f"{path}/convert", "rep", mine,
        json={"name": "Acme - 3 sites", "amount": {"amount": "48000.00", "currency": "EUR"}},
    )  # fmt: skip
    closed = sales_api.by("POST", f"{path}/close", "rep", mine, json={"outcome": "won"})

    assert [r.status_code for r in (accepted, converted, closed)] == [200, 200, 200], closed.text
    assert closed.json()["status"] == "closed_won"
    assert closed.headers["ETag"] == '"5"'
    feedback = emitted(sales_api.engine, "handoff.accepted", "opportunity.converted", "opportunity.closed")
    assert [event.type.split(".")[1:3] for event in feedback] == [
        ["handoff", "accepted"], ["opportunity", "converted"], ["opportunity", "closed"]
    ]  # fmt: skip
    accepted_event = feedback[0].data
    assert accepted_event.within_sla
    assert accepted_event.definition_version == 1
    assert accepted_event.time_to_accept_business_hours is not None
    assert str(feedback[1].data.amount.amount) == "48000.00"


def test_an_action_the_state_does_not_allow_is_409_naming_the_state_and_the_allowed_actions(sales_api: SalesApi):
    handoff_id, mine, _ = holder(sales_api)
    sales_api.by("POST", f"/v1/handoffs/{handoff_id}/accept", "rep", mine, json={})

    again = sales_api.by("POST", f"/v1/handoffs/{handoff_id}/accept", "rep", mine, json={})

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["status_now"] == "accepted"
    assert again.json()["allowed_actions"] == ["convert"]


def test_a_reason_outside_the_agreed_list_is_422_listing_the_allowed_codes(sales_api: SalesApi) -> None:
    handoff_id, mine, _ = holder(sales_api)

    refused = sales_api.by("POST", f"/v1/handoffs/{handoff_id}/reject", "rep", mine, json={"reason_code": "meh"})
    rejected = sales_api.by(
        "POST", f"/v1/handoffs/{handoff_id}/reject", "rep", mine, json={"reason_code": "bad_timing"}
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reason_code"
    assert "bad_timing, not_a_fit" in refused.json()["detail"]
    assert rejected.status_code == 200
    [event] = emitted(sales_api.engine, "handoff.rejected")
    assert event.data.recycle.action == "nurture"
    assert event.data.recycle.wait_days == 30


def test_a_retried_post_gets_the_first_answer_and_emits_nothing_twice(sales_api: SalesApi) -> None:
    handoff_id, mine, _ = holder(sales_api)
    headers = {"Idempotency-Key": "accept-1"}

    first = sales_api.by("POST", f"/v1/handoffs/{handoff_id}/accept", "rep", mine, json={}, headers=headers)
    retry = sales_api.by("POST", f"/v1/handoffs/{handoff_id}/accept", "rep", mine, json={}, headers=headers)
    other = sales_api.by("POST", f"/v1/handoffs/{handoff_id}/accept", "rep", mine, json={"note": "x"}, headers=headers)

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert len(emitted(sales_api.engine, "handoff.accepted")) == 1


def test_a_stale_if_match_is_412_and_the_current_one_goes_through(sales_api: SalesApi) -> None:
    handoff_id, mine, _ = holder(sales_api)
    path = f"/v1/handoffs/{handoff_id}/accept"

    stale = sales_api.by("POST", path, "rep", mine, json={}, headers={"If-Match": '"1"'})
    current = sales_api.by("POST", path, "rep", mine, json={}, headers={"If-Match": '"2"'})

    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert current.status_code == 200


def test_a_manager_reassigns_within_their_team_and_a_rep_may_not(sales_api: SalesApi) -> None:
    handoff_id, mine, other = holder(sales_api)
    path = f"/v1/handoffs/{handoff_id}/reassign"

    by_rep = sales_api.by("POST", path, "rep", mine, json={"rep_email": other})
    to_other_team = sales_api.by("POST", path, "manager", EMAILS["mia"], json={"rep_email": "nia@acme.example"})
    by_manager = sales_api.by("POST", path, "manager", EMAILS["mia"], json={"rep_email": other})
    routing = sales_api.by("GET", f"/v1/handoffs/{handoff_id}/routing", "rep", other)

    assert by_rep.status_code == 403
    assert to_other_team.status_code == 422
    assert by_manager.status_code == 200, by_manager.text
    assert by_manager.json()["rep"]["email"] == other
    assert [d["method"] for d in routing.json()["decisions"]] == ["round_robin", "manager"]
    [event] = emitted(sales_api.engine, "handoff.reassigned")
    assert event.data.reason == "manager_override"
    assert event.data.reassigned_by == EMAILS["mia"]


def test_an_insight_on_an_account_is_kept_and_emitted(sales_api: SalesApi) -> None:
    _, mine, other = holder(sales_api)
    row = handoffs(sales_api.engine)[0]
    body = {"pain_points": ["picking errors"], "micro_trends": ["second plant"], "note": "CFO signs"}

    logged = sales_api.by("POST", f"/v1/accounts/{row.account_id}/insights", "rep", mine, json=body)
    hidden = sales_api.by("POST", f"/v1/accounts/{row.account_id}/insights", "rep", other, json=body)

    assert logged.status_code == 201, logged.text
    assert hidden.status_code == 404
    [event] = emitted(sales_api.engine, "account.insight.logged")
    assert event.data.micro_trends == ["second plant"]
    assert event.data.logged_by == mine


def test_the_dossier_offers_people_only_what_people_can_do(sales_api: SalesApi) -> None:
    handoff_id, _, _ = holder(sales_api)
    dossier = sales_api.by("GET", f"/v1/handoffs/{handoff_id}", "sales_ops", "ops@acme.example").json()
    assert set(dossier["allowed_actions"]) == {"reassign", "accept", "reject"}  # not the SLA clock's own actions
