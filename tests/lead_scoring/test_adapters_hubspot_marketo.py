"""HubSpot webhooks and form submissions, and Marketo activities, shaped as their documentation shows them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from events.catalog.touches import ContactIdentified, TouchRecorded
from services.lead_scoring.ingest.adapt import adapt
from tests.lead_scoring.test_adapters import JSON, RECEIVED, errors, ingest, sample


def test_a_hubspot_delivery_identifies_the_contact_by_the_email_it_carries_and_learns_each_property() -> None:
    result = ingest(sample("hubspot_webhook.json"))

    assert errors(result) == []
    data = [event.data for event in result.accepted]
    assert all(isinstance(item, ContactIdentified) for item in data)
    assert {item.email for item in data} == {"lee.park@northwind-logistics.com"}
    assert {item.external_ids.hubspot_contact_id for item in data} == {"1246978"}
    assert [item.traits.title for item in data] == [None, None, "Head of Logistics", None]
    assert data[3].traits.custom == {"lifecyclestage": "lead"}
    assert result.accepted[0].time == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert len({event.id for event in result.accepted}) == 4  # one per HubSpot eventId
    assert ingest(sample("hubspot_webhook.json")).accepted[0].id == result.accepted[0].id  # a retry is the same


def test_a_hubspot_event_of_a_contact_with_no_known_email_is_refused_saying_what_to_subscribe() -> None:
    body = [event for event in sample("hubspot_webhook.json") if event.get("propertyName") != "email"]

    result = ingest(body)

    assert result.accepted == []
    assert "has no known email: subscribe to contact.propertyChange for email" in errors(result)[0]
    known = adapt(JSON, body, RECEIVED, known_emails={"1246978": "lee.park@northwind-logistics.com"})
    assert len(known.accepted) == 3  # a contact already known by its HubSpot id


def test_a_hubspot_subscription_leadflow_does_not_take_is_refused_naming_it() -> None:
    body = sample("hubspot_webhook.json")
    body[0] = {**body[0], "subscriptionType": "deal.creation"}

    result = ingest(body)

    expected = "[0].subscriptionType: deal.creation is not ingested (send contact.creation, contact.propertyChange)"
    assert errors(result) == [expected]
    assert len(result.accepted) == 3


def test_a_hubspot_demo_form_submission_is_a_demo_request_and_identifies_the_contact() -> None:
    result = ingest(sample("hubspot_form_submission.json"))

    assert errors(result) == []
    touch, identified = (event.data for event in result.accepted)
    assert isinstance(touch, TouchRecorded)
    assert (touch.touch_type, touch.source_system, touch.channel) == ("demo_request", "hubspot", "web")
    assert touch.url == "https://www.northwind-demo.example/request-a-demo"
    assert touch.contact.external_ids.other == {"hubspot_utk": "8a7b3c2d1e0f4a5b6c7d8e9f0a1b2c3d"}
    assert isinstance(identified, ContactIdentified)
    assert (identified.traits.first_name, identified.traits.employees) == ("Lee", 250)
    assert identified.account.company_name == "Northwind Logistics"
    assert result.accepted[0].time == datetime(2026, 11, 2, 9, 5, tzinfo=UTC)


def test_a_hubspot_form_with_a_bad_email_names_the_field() -> None:
    body = copy.deepcopy(sample("hubspot_form_submission.json"))
    body["fields"][0]["value"] = "not-an-email"

    assert errors(ingest(body))[0].startswith("fields[0].value: ")


def test_marketo_activities_become_touches_by_their_default_type_ids() -> None:
    result = ingest(sample("marketo_activities.json"))

    assert errors(result) == []
    touches = [event.data for event in result.accepted]
    assert [t.touch_type for t in touches] == ["pricing_page_view", "demo_request", "email_open", "email_click"]
    assert {t.contact.external_ids.marketo_lead_id for t in touches} == {"6"}
    assert [t.channel for t in touches] == ["web", "web", "email", "email"]
    assert result.accepted[1].time == datetime(2026, 11, 2, 9, 3, tzinfo=UTC)  # "+0000", as the docs write it
    assert touches[3].url == "https://www.example.com/whitepaper"


def test_a_marketo_activity_that_is_no_prospect_action_is_refused_naming_the_type() -> None:
    body = sample("marketo_activities.json")
    body["result"][0]["activityTypeId"] = 6  # Send Email: marketing acted, not the prospect

    result = ingest(body)

    assert errors(result)[0].startswith("result[0].activityTypeId: 6 is not a touch leadflow scores (send 1 (Visit")
    assert len(result.accepted) == 3


def test_a_marketo_answer_that_failed_is_refused_whole() -> None:
    body = {"requestId": "e42b#14272d07d78", "success": False, "errors": [{"code": "601", "message": "Unauthorized"}]}
    body["result"] = []

    assert errors(ingest(body)) == ["success: Marketo answered with an error (601: Unauthorized): nothing to ingest"]
