"""Finding leads and accounts under `leadflow up`: the list, its filters, sort and pages, the account view, 404s."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.lead_scoring.definitions.document import Ranking
from services.lead_scoring.leads import repository as lead_repository
from services.lead_scoring.matching.resolve import NAMESPACE
from services.lead_scoring.models import Contact, Lead
from tests.lead_scoring.test_definition_api import example_document
from tests.lead_scoring.test_journey_local import DEMO_REQUEST, IDENTIFY, publish, segment, wait_for

DANA = uuid.uuid5(NAMESPACE, "contact:dana@acme-robotics.com")


def identify(user: str, email: str, title: str, company: str, employees: int, industry: str) -> dict[str, Any]:
    """A Segment identify of one person at one company."""
    return segment(
        "identify",
        f"m-{user}",
        "2026-11-02T09:00:00Z",
        userId=user,
        traits={
            "email": email,
            "title": title,
            "company": {"name": company, "industry": industry, "employee_count": employees},
            "country": "DE",
        },
    )


def ingest(api, body: Any) -> dict[str, Any]:
    """POST /v1/touches as marketing automation; the answer."""
    response = api.call("POST", "/v1/touches", "marketing_automation", json=body)
    assert response.status_code == 202, response.text
    return dict(response.json())


def leads(api, **params: Any) -> Any:
    """GET /v1/leads with these query parameters, as sales ops."""
    return api.call("GET", "/v1/leads", "sales_ops", params=params)


def scored(api, count: int, mqls: int = 0) -> list[dict[str, Any]]:
    """Wait until `count` leads are scored, `mqls` of them MQLs; all of them, best first."""

    last: list[list[dict[str, Any]]] = [[]]

    def ready() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = leads(api, limit=200).json()["items"]
        # The publication's rescore may run after the touches and rescore every lead again: wait for it too.
        jobs = api.call("GET", "/v1/definitions/rescores", "sales_ops").json()
        rescored = all(job["status"] in ("done", "superseded") for job in jobs)
        done = rescored and len(items) == count and sum(lead["stage"] == "mql" for lead in items) == mqls
        # The consumer may still be evaluating the last events: done once two reads in a row agree.
        settled, last[0] = done and items == last[0], items
        return items if settled else []

    return wait_for(ready)


def a_world(api) -> None:
    """Nine people: five tied at Acme Robotics (same fit, no engagement), three elsewhere, one who asked a demo."""
    publish(api)
    people = [
        identify(f"u-{n}", f"ops{n}@acme-robotics.com", "VP Operations", "Acme Robotics", 850, "manufacturing")
        for n in range(5)
    ]
    people += [
        identify("u-s1", "kim@tinyshop.io", "Owner", "Tiny Shop", 4, "retail"),
        identify("u-s2", "lee@bigbank.com", "Analyst", "Big Bank", 90000, "banking"),
        identify("u-s3", "max@logistix.de", "Head of IT", "Logistix", 300, "logistics"),
    ]
    ingest(api, {"batch": people})
    ingest(api, IDENTIFY)
    ingest(api, DEMO_REQUEST)


def test_an_identified_lead_is_found_by_email_and_the_ingest_answer_names_it(local_api) -> None:
    publish(local_api)
    call = identify("u-dana", "Dana@Acme-Robotics.com", "VP Operations", "Acme Robotics", 850, "manufacturing")

    answer = ingest(local_api, call)

    assert answer["accepted"][0]["lead_id"] == answer["accepted"][0]["contact_id"] == str(DANA)
    found = wait_for(lambda: leads(local_api, email="dana@acme-robotics.com").json()["items"])
    assert [lead["lead_id"] for lead in found] == [str(DANA)]
    assert found[0]["combined_score"] == found[0]["fit_score"] + found[0]["engagement_score"]
    # The email is compared as ingest stores it: case and +tags do not hide the lead.
    assert leads(local_api, email=" DANA+news@acme-robotics.com").json()["items"] == found


def test_the_ingest_answer_names_the_contact_of_each_item_and_says_why_an_anonymous_one_has_none(local_api) -> None:
    anonymous = segment("track", "m-a", "2026-11-02T09:00:00Z", event="Demo Requested", anonymousId="anon-1")
    anonymous.pop("userId")
    known_later = segment("track", "m-b", "2026-11-02T09:01:00Z", event="Demo Requested", userId="u-dana")

    answer = ingest(local_api, {"batch": [anonymous, IDENTIFY, known_later]})

    first, identified, track = answer["accepted"]
    assert first["contact_id"] is None
    assert first["lead_id"] is None
    assert "no email" in first["why_none"]
    dana = str(uuid.uuid5(NAMESPACE, "contact:dana.whitfield@acme-robotics.com"))
    assert identified["contact_id"] == dana
    assert identified["why_none"] is None
    assert track["contact_id"] == dana  # known by its user id from the identify before it in the same request
    assert set(first) >= {"item", "index", "event_ids"}


def test_filters_narrow_the_list_by_account_stage_grade_score_and_time(local_api) -> None:
    a_world(local_api)
    everyone = scored(local_api, 9, mqls=1)
    dana = next(lead for lead in everyone if lead["email"] == "dana.whitfield@acme-robotics.com")
    acme = dana["account_id"]

    by_account = leads(local_api, account_id=acme, limit=200).json()["items"]
    assert {lead["email"].split("@")[1] for lead in by_account} == {"acme-robotics.com"}
    assert len(by_account) == 6
    assert [lead["lead_id"] for lead in leads(local_api, stage="mql").json()["items"]] == [dana["lead_id"]]
    grade_a = leads(local_api, fit_grade="A", limit=200).json()["items"]
    assert grade_a
    assert all(lead["fit_grade"] == "A" for lead in grade_a)
    low = min(lead["combined_score"] for lead in everyone)
    lowest = [lead for lead in everyone if lead["combined_score"] == low]
    assert leads(local_api, max_score=low).json()["items"] == lowest
    high = leads(local_api, min_score=dana["combined_score"]).json()["items"]
    assert all(lead["combined_score"] >= dana["combined_score"] for lead in high)
    assert dana in high
    assert leads(local_api, updated_since="2200-01-01T00:00:00Z").status_code == 422
    assert len(leads(local_api, updated_since="2026-01-01T00:00:00Z", limit=200).json()["items"]) == 9
    assert leads(local_api, updated_since="2027-01-01T00:00:00Z").json()["items"] == []


def test_the_list_is_sorted_by_combined_score_then_by_lead_id(local_api) -> None:
    a_world(local_api)
    everyone = scored(local_api, 9, mqls=1)

    keys = [(lead["combined_score"], lead["lead_id"]) for lead in everyone]
    assert keys == sorted(keys, key=lambda key: (key[0], uuid.UUID(key[1]).hex), reverse=True)
    assert everyone[0]["email"] == "dana.whitfield@acme-robotics.com"  # the demo request tops the list
    by_time = leads(local_api, sort="updated", limit=200).json()["items"]
    times = [lead["scored_at"] for lead in by_time]
    assert times == sorted(times, reverse=True)
    assert len(by_time) == 9


def test_pages_cover_every_lead_once_across_ties_in_both_sorts(local_api) -> None:
    a_world(local_api)
    everyone = scored(local_api, 9, mqls=1)
    for sort in ("score", "updated"):
        whole = [lead["lead_id"] for lead in leads(local_api, sort=sort, limit=200).json()["items"]]
        paged, cursor, pages = [], None, 0
        while True:
            params: dict[str, Any] = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = leads(local_api, **params).json()
            paged += [lead["lead_id"] for lead in page["items"]]
            pages += 1
            if not (cursor := page["next"]):
                break
        assert paged == whole, sort  # no duplicate, no gap, the same order
        assert pages == 5
        assert len(set(paged)) == len(everyone)
    last = leads(local_api, limit=9).json()
    assert len(last["items"]) == 9
    assert last["next"] is None


def test_bad_filters_are_problems_naming_the_field(local_api) -> None:
    publish(local_api)
    cases: dict[str, tuple[dict[str, Any], int]] = {
        "stage": ({"stage": "hot"}, 422),
        "fit_grade": ({"fit_grade": "E"}, 422),
        "limit": ({"limit": 201}, 422),
        "min_score": ({"min_score": 10, "max_score": 5}, 422),
        "email": ({"email": "not-an-email"}, 422),
        "cursor": ({"cursor": "garbage!"}, 400),
        "account_id": ({"account_id": "acme"}, 422),
        "updated_since": ({"updated_since": "yesterday"}, 422),
    }
    for field, (params, status) in cases.items():
        response = leads(local_api, **params)
        assert response.status_code == status, (field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in response.json()["detail"], (field, response.json())
    # A cursor of one sort is not a cursor of the other.
    ingest(local_api, IDENTIFY)
    ingest(local_api, identify("u-x", "x@logistix.de", "Head of IT", "Logistix", 300, "logistics"))
    scored(local_api, 2)
    cursor = leads(local_api, limit=1).json()["next"]
    wrong = leads(local_api, sort="updated", cursor=cursor)
    assert wrong.status_code == 400
    assert "sort=score" in wrong.json()["detail"]


def test_the_account_view_lists_contacts_roll_up_and_the_buying_committee(local_api) -> None:
    a_world(local_api)
    everyone = scored(local_api, 9, mqls=1)
    dana = next(lead for lead in everyone if lead["email"] == "dana.whitfield@acme-robotics.com")

    def settled() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
        # The consumer may still be evaluating the last events: read the account and the lead until they agree.
        response = local_api.call("GET", f"/v1/accounts/{dana['account_id']}", "rep")
        assert response.status_code == 200, response.text
        account = response.json()
        fresh = leads(local_api, email=dana["email"]).json()["items"][0]
        contact = next(contact for contact in account["contacts"] if contact["id"] == dana["lead_id"])
        return (account, contact, fresh) if contact["combined_score"] == fresh["combined_score"] else None

    account, contact, dana = wait_for(settled)
    assert account["domain"] == "acme-robotics.com"
    assert len(account["contacts"]) == 6
    assert contact["stage"] == "mql"
    # The roll-up is the example's sum of the three most engaged contacts, as their rows stand now. (A lead row
    # keeps the account score of its own last evaluation, which may be older: the view does not compare with it.)
    engaged = sorted((contact["engagement_score"] or 0.0 for contact in account["contacts"]), reverse=True)
    assert account["roll_up_score"] == pytest.approx(sum(engaged[:3]), abs=0.01)
    assert account["roll_up_score"] > 0
    committee = account["committee"]
    # The example definition asks for an engaged decision maker; sales logged no role yet.
    assert committee["roles_missing"] == ["decision_maker"]
    assert committee["roles_present"] == []
    assert committee["engaged_contacts"] == [dana["lead_id"]]


def test_unknown_ids_are_404s_that_say_what_is_unknown_and_why(local_api) -> None:
    nobody = uuid.uuid4()
    before = local_api.call("GET", f"/v1/leads/{nobody}", "rep")
    assert before.status_code == 404
    assert before.json()["detail"] == f"lead {nobody} is unknown: nothing is scored before a definition is published"

    publish(local_api)
    after = local_api.call("GET", f"/v1/leads/{nobody}/explanation", "rep")
    assert after.status_code == 404
    assert after.json()["detail"] == f"lead {nobody} is unknown"
    account = local_api.call("GET", f"/v1/accounts/{nobody}", "rep")
    assert account.status_code == 404
    assert account.json()["detail"] == f"account {nobody} is unknown"


def test_an_mql_of_an_earlier_version_reads_as_an_mql_in_the_lead_and_its_explanation(local_api) -> None:
    publish(local_api)
    ingest(local_api, {"batch": [IDENTIFY, DEMO_REQUEST]})
    dana = str(uuid.uuid5(NAMESPACE, "contact:dana.whitfield@acme-robotics.com"))
    qualified = wait_for(
        lambda: (r := local_api.call("GET", f"/v1/leads/{dana}", "rep").json()).get("stage") == "mql" and r
    )
    stricter = example_document()
    stricter["hand_raisers"] = []
    stricter["mql"]["min_engagement_score"] = 100
    publish(local_api, stricter)

    lead = wait_for(
        lambda: (r := local_api.call("GET", f"/v1/leads/{dana}", "rep").json()).get("definition_version") == 2 and r
    )
    explanation = local_api.call("GET", f"/v1/leads/{dana}/explanation", "rep").json()

    assert lead["stage"] == explanation["stage"] == "mql"
    assert lead["reason"] == explanation["reason"] == "hand_raiser"
    assert lead["mql_version"] == explanation["qualified"]["definition_version"] == 1
    assert lead["mql_at"] == qualified["mql_at"] == explanation["qualified"]["at"]
    assert explanation["explanation"].startswith(f"mql: qualified under version 1 at {qualified['mql_at']}")
    assert "stays an MQL while sales works it" in explanation["explanation"]
    assert explanation["definition"]["version"] == 2
    assert explanation["scores_say"]["stage"] == "engaged"  # what version 2 alone would say, kept apart


@pytest.mark.parametrize("engine_fixture", ["sqlite_engine", "postgres_engine"])
def test_keyset_pages_hold_across_ties_on_both_databases(engine_fixture: str, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue(engine_fixture)
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with Session(engine) as session:
        for n in range(11):  # scores and times with many ties: only the lead id tells them apart
            contact_id = uuid.uuid4()
            session.add(Contact(id=contact_id, email=f"p{n}@x.com", account_rule="none", created_at=at, updated_at=at))
            session.flush()
            fit, engagement, scored_at = float(n % 3) * 10, float(n % 2) * 5, at + timedelta(minutes=n % 4)
            session.add(lead_row(contact_id, fit, engagement, scored_at))
        session.commit()
        for sort in ("score", "updated"):
            query = lead_repository.LeadQuery(
                ranking=Ranking(fit_weight=0.5, engagement_weight=2), sort=sort, limit=100
            )
            whole = [lead.contact_id for lead, _, _ in lead_repository.find_leads(session, query)]
            paged: list[uuid.UUID] = []
            after = None
            while page := lead_repository.find_leads(session, replace(query, limit=3, after=after)):
                paged += [lead.contact_id for lead, _, _ in page]
                after = (page[-1][2], page[-1][0].contact_id)
            assert paged == whole
            assert len(set(paged)) == 11


def lead_row(contact_id: uuid.UUID, fit: float, engagement: float, scored_at: datetime) -> Lead:
    """A stored lead with these scores."""
    return Lead(
        contact_id=contact_id,
        stage="raw",
        fit_score=fit,
        fit_grade="C",
        engagement_score=engagement,
        account_score=0.0,
        definition_version=1,
        explanation={},
        scored_at=scored_at,
    )


def test_a_person_who_comes_back_after_erasure_is_named_by_the_new_contact_id(local_api) -> None:
    publish(local_api)
    email = "dana@acme-robotics.com"
    first = ingest(local_api, identify("u-dana", email, "VP Operations", "Acme Robotics", 850, "manufacturing"))
    assert first["accepted"][0]["contact_id"] == str(DANA)
    wait_for(lambda: leads(local_api, email=email).json()["items"])
    erasure = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:test",
        "type": "leadflow.contact.erased.v1",
        "time": "2026-11-03T09:00:00Z",
        "data": {"email": email, "requested_at": "2026-11-03T08:00:00Z", "source_system": "crm"},
    }
    response = local_api.client.post(
        "/v1/touches",
        content=json.dumps(erasure),
        headers={**local_api.as_("marketing_automation"), "content-type": "application/cloudevents+json"},
    )
    assert response.status_code == 202, response.text
    wait_for(lambda: not leads(local_api, email=email).json()["items"])

    again = ingest(local_api, identify("u-dana2", email, "VP Operations", "Acme Robotics", 850, "manufacturing"))

    comeback = uuid.uuid5(NAMESPACE, f"contact:{email}#1")  # the erased contact keeps its id: the next one is new
    assert again["accepted"][0]["contact_id"] == str(comeback)
    found = wait_for(lambda: leads(local_api, email=email).json()["items"])
    assert [lead["lead_id"] for lead in found] == [str(comeback)]
