"""Ingest adapters, fed with payloads shaped as each source's published documentation shows them."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.catalog.touches import ContactIdentified, TouchRecorded
from events.registry import decode, encode
from services.lead_scoring.ingest.adapt import CLOUDEVENTS, CLOUDEVENTS_BATCH, IngestResult, adapt, touch_type_of

SAMPLES = Path(__file__).parent / "samples"
CONTRACT_EXAMPLES = Path(__file__).parents[2] / "contracts" / "examples"
RECEIVED = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
JSON = "application/json"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def ingest(body: Any, content_type: str = JSON) -> IngestResult:
    result = adapt(content_type, body, RECEIVED)
    for event in result.accepted:
        # Whatever ingest accepts must travel: it encodes and decodes under the contract.
        assert decode(encode(event)).envelope == event.envelope
    return result


def errors(result: IngestResult) -> list[str]:
    return [str(error) for error in result.rejected]


# --- CloudEvents --------------------------------------------------------------------------------------------


def test_cloudevents_batch_keeps_valid_items_and_names_the_bad_field():
    result = ingest(sample("cloudevents_batch.json"), CLOUDEVENTS_BATCH)
    assert [item.index for item in result.accepted_items] == [0, 1, 3]
    assert [event.type.split(".")[1:3] for event in result.accepted] == [
        ["touch", "recorded"],
        ["contact", "identified"],
        ["contact", "erased"],
    ]
    (error,) = result.rejected
    assert (error.field, error.index) == ("[2].data.contact.email", 2)
    assert str(error).startswith("[2].data.contact.email: value is not a valid email address")


def test_single_cloudevent_keeps_its_id_time_and_source():
    body = json.loads((CONTRACT_EXAMPLES / "leadflow.touch.recorded.v1.json").read_text())
    (event,) = ingest(body, CLOUDEVENTS).accepted
    assert event.id == uuid.UUID(body["id"])
    assert event.time == datetime(2025, 3, 4, 9, 12, 31, tzinfo=UTC)
    assert event.envelope.source == "urn:mautic:stackyard-marketing"
    assert isinstance(event.data, TouchRecorded)


def test_cloudevent_key_follows_the_account_key_rule_whatever_the_sender_put():
    body = json.loads((CONTRACT_EXAMPLES / "leadflow.touch.recorded.v1.json").read_text())
    body["partitionkey"] = "something-else"
    assert ingest(body, CLOUDEVENTS).accepted[0].key == "acme-robotics.com"
    del body["partitionkey"]
    assert ingest(body, JSON).accepted[0].key == "acme-robotics.com"


def test_leadflow_output_types_are_refused_at_ingest():
    body = json.loads((CONTRACT_EXAMPLES / "leadflow.lead.scored.v1.json").read_text())
    (error,) = ingest(body, CLOUDEVENTS).rejected
    assert error.field == "type"
    assert "leadflow.lead.scored.v1 is not accepted at ingest" in error.message


def test_cloudevent_errors_name_every_bad_field():
    body = json.loads((CONTRACT_EXAMPLES / "leadflow.touch.recorded.v1.json").read_text())
    del body["time"]
    body["data"]["touch_type"] = "Content Download"
    assert errors(ingest([body], CLOUDEVENTS_BATCH))[0].startswith("[0].time: Field required")
    body["time"] = "2025-03-04T09:12:31Z"
    assert errors(ingest([body], CLOUDEVENTS_BATCH))[0].startswith("[0].data.touch_type: String should match")


def test_a_batch_item_that_is_not_an_object_is_rejected_alone():
    body = json.loads((CONTRACT_EXAMPLES / "leadflow.contact.identified.v1.json").read_text())
    result = ingest([body, "oops"], CLOUDEVENTS_BATCH)
    assert len(result.accepted) == 1
    assert errors(result) == ["[1]: must be a CloudEvent JSON object (got str)"]


# --- Segment ------------------------------------------------------------------------------------------------


def test_segment_track_becomes_a_content_download_touch_keyed_by_corporate_domain():
    (event,) = ingest(sample("segment_track.json")).accepted
    touch = event.data
    assert isinstance(touch, TouchRecorded)
    assert event.key == "acme-robotics.com"
    assert event.time == datetime(2025, 3, 4, 9, 12, 29, 249000, tzinfo=UTC)
    assert event.envelope.source == "urn:leadflow:lead_scoring"
    assert (touch.touch_type, touch.channel, touch.source_system) == ("content_download", "web", "segment")
    assert touch.contact.email == "Dana.Whitfield+roi@acme-robotics.com"
    assert touch.contact.external_ids.segment_user_id == "97980cfea0067"
    assert touch.campaign == "2025-q1-warehouse-automation-roi"
    assert touch.content_id == "wp-warehouse-automation-roi-2025"
    assert touch.referrer_url == "https://www.linkedin.com/"
    assert touch.properties["utm_medium"] == "paid_social"
    assert touch.properties["sites_planned"] == 3
    assert touch.touch_id == event.id


@pytest.mark.parametrize(
    ("name", "touch_type"),
    [
        ("Demo Requested", "demo_request"),
        ("Whitepaper Downloaded", "content_download"),
        ("Content Downloaded", "content_download"),
        ("Webinar Attended", "webinar_attended"),
        ("Email Opened", "email_open"),
        ("Unsubscribed", "unsubscribe"),
        ("Form Submitted", "form_submit"),
        ("demo  requested", "demo_request"),
        ("Trial Started", "trial_started"),
        ("pricingCalculatorUsed", "pricing_calculator_used"),
        ("Café Visité", "cafe_visite"),
        ("2024 Kickoff", None),
    ],
)
def test_track_event_names_map_to_touch_types(name, touch_type):
    assert touch_type_of(name) == touch_type


def test_track_channel_follows_the_touch_type():
    body = sample("segment_track.json")
    body["event"] = "Email Opened"
    assert ingest(body).accepted[0].data.channel == "email"


def test_track_event_that_cannot_become_a_touch_type_is_rejected_naming_event():
    body = sample("segment_track.json")
    body["event"] = "2024 Kickoff"
    assert errors(ingest(body)) == ["event: '2024 Kickoff' cannot become a touch type (needs a letter first)"]


def test_segment_identify_becomes_contact_identified_with_traits_and_account_hint():
    (event,) = ingest(sample("segment_identify.json")).accepted
    identified = event.data
    assert isinstance(identified, ContactIdentified)
    assert event.key == "acme-robotics.com"
    traits = identified.traits
    assert (traits.first_name, traits.last_name, traits.title) == ("Dana", "Whitfield", "VP Operations")
    assert (traits.company, traits.industry, traits.employees) == ("Acme Robotics GmbH", "manufacturing", 850)
    assert (traits.country, traits.city) == ("DE", "Munich")
    assert traits.custom == {
        "createdAt": "2025-02-11T08:00:00.000Z",
        "warehouse_count": 3,
        "company_id": "acme-robotics",
        "company_plan": "enterprise",
    }
    assert (identified.account.company_name, identified.account.domain) == ("Acme Robotics GmbH", "acme-robotics.com")
    assert identified.external_ids.segment_anonymous_id == "507f191e810c19729de860ea"


def test_identify_takes_snake_case_traits_and_company_as_a_string():
    body = sample("segment_identify.json")
    body["traits"] = {
        "email": "jonas@nordlogistik.de",
        "first_name": "Jonas",
        "last_name": "Berger",
        "company": "Nordlogistik AG",
        "employees": "1,200",
        "country": "Atlantis",
    }
    traits = ingest(body).accepted[0].data.traits
    assert (traits.first_name, traits.company, traits.employees, traits.country) == (
        "Jonas",
        "Nordlogistik AG",
        1200,
        None,
    )
    assert traits.custom == {"country": "Atlantis"}


def test_identify_without_an_email_is_rejected_naming_traits_email():
    body = sample("segment_identify.json")
    del body["traits"]["email"]
    assert errors(ingest(body)) == [
        "traits.email: an identify call needs an email (traits.email or an email as userId)"
    ]


def test_identify_with_an_invalid_email_names_the_field():
    body = sample("segment_identify.json")
    body["traits"]["email"] = "dana at acme"
    assert errors(ingest(body))[0].startswith("traits.email: value is not a valid email address")


def test_segment_page_of_pricing_is_a_pricing_page_view_keyed_by_the_anonymous_id():
    (event,) = ingest(sample("segment_page.json")).accepted
    assert (event.data.touch_type, event.key) == ("pricing_page_view", "9c1f4e2b-7a3d-4f6e-8b1a-2d5c7e9f0a13")
    assert event.data.contact.email is None
    assert event.data.content_tags == ["Product"]


def test_segment_time_is_the_payload_timestamp_and_received_at_only_when_it_has_none():
    body = sample("segment_page.json")
    for field in ("timestamp", "originalTimestamp", "receivedAt", "sentAt"):
        del body[field]
    assert ingest(body).accepted[0].time == RECEIVED


def test_segment_timestamp_without_offset_is_rejected():
    body = sample("segment_page.json")
    body["timestamp"] = "2025-03-05T14:03:10"
    assert errors(ingest(body)) == ["timestamp: needs a UTC offset such as Z or +02:00 (got '2025-03-05T14:03:10')"]


def test_a_redelivered_segment_call_gets_the_same_event_id():
    first, again = ingest(sample("segment_track.json")), ingest(sample("segment_track.json"))
    assert first.accepted[0].id == again.accepted[0].id
    other = sample("segment_track.json")
    other["messageId"] = "ajs-another"
    assert ingest(other).accepted[0].id != first.accepted[0].id


def test_segment_batch_endpoint_body_reports_per_call():
    bad = sample("segment_track.json")
    del bad["messageId"]
    group = {"type": "group", "messageId": "m-3", "userId": "u", "groupId": "g"}
    result = ingest({"batch": [sample("segment_identify.json"), bad, group], "sentAt": "2025-03-04T09:12:31Z"})
    assert [item.item for item in result.accepted_items] == ["batch[0]"]
    assert errors(result) == [
        "batch[1].messageId: is required",
        "batch[2].type: Segment group calls are not ingested (send track, identify or page)",
    ]
    assert [error.index for error in result.rejected] == [1, 2]


def test_segment_call_without_any_user_is_rejected():
    body = sample("segment_page.json")
    del body["anonymousId"]
    assert errors(ingest(body)) == ["userId: a Segment call needs a userId or an anonymousId"]


# --- Mautic -------------------------------------------------------------------------------------------------


def test_mautic_form_submit_becomes_a_touch_and_a_contact_identified():
    touch, identified = ingest(sample("mautic_form_submit.json")).accepted[:2]
    assert isinstance(touch.data, TouchRecorded)
    assert isinstance(identified.data, ContactIdentified)
    assert (touch.key, touch.time) == ("acme-robotics.com", datetime(2025, 3, 4, 9, 12, 29, tzinfo=UTC))
    assert (touch.data.touch_type, touch.data.content_id, touch.data.content_tags) == (
        "form_submit",
        "form:roiguide",
        ["gated-content"],
    )
    assert touch.data.contact.external_ids.mautic_contact_id == "48213"
    assert touch.data.properties["sites_planned"] == "3"
    traits = identified.data.traits
    assert (traits.first_name, traits.title, traits.country, traits.company) == (
        "Dana",
        "VP Operations",
        "DE",
        "Acme Robotics GmbH",
    )
    assert traits.linkedin_url == "https://www.linkedin.com/in/dana-whitfield-ops"
    assert traits.custom["title"] == "Ms"  # Mautic's title is the salutation, position is the job title
    assert identified.data.account.domain == "acme-robotics.com"
    assert identified.id != touch.id


def test_mautic_demo_form_from_gmail_is_a_demo_request_keyed_by_the_email():
    touch, identified = ingest(sample("mautic_form_submit.json")).accepted[2:]
    assert touch.data.touch_type == "demo_request"
    assert touch.key == identified.key == "rajmehtaops@gmail.com"
    assert identified.data.account.company_name is None


def test_mautic_unsubscribed_contact_has_no_marketing_consent():
    body = sample("mautic_form_submit.json")
    body["mautic.form_on_submit"][0]["submission"]["lead"]["doNotContact"] = [
        {"id": 5, "reason": 1, "channel": "email", "channelId": None}
    ]
    assert ingest(body).accepted[1].data.traits.marketing_consent is False


def test_a_bad_mautic_entry_does_not_cost_the_others():
    body = sample("mautic_form_submit.json")
    body["mautic.form_on_submit"][0]["submission"]["results"]["email"] = "dana@"
    body["mautic.lead_post_save_new"] = [{"contact": {}, "timestamp": "2025-03-04T09:12:31+00:00"}]
    result = ingest(body)
    assert [item.item for item in result.accepted_items] == ["mautic.form_on_submit[1]"]
    assert errors(result)[0].startswith(
        "mautic.form_on_submit[0].submission.results.email: value is not a valid email address"
    )
    assert errors(result)[1].startswith("mautic.lead_post_save_new: is not ingested (send mautic.email_on_open")


def test_mautic_page_hit_from_an_email_click_on_pricing():
    hit, anonymous = ingest(sample("mautic_page_hit.json")).accepted
    assert (hit.data.touch_type, hit.data.channel, hit.data.campaign) == (
        "pricing_page_view",
        "email",
        "2025-q1-warehouse-automation-roi",
    )
    assert hit.data.properties["utm_source"] == "mautic"
    assert anonymous.key == "48402"  # an anonymous visitor is keyed by its Mautic contact id
    assert (anonymous.data.touch_type, anonymous.data.content_id) == ("page_view", "page:warehouse-webinar")


def test_mautic_naive_times_are_utc():
    body = sample("mautic_page_hit.json")
    body["mautic.page_on_hit"][0]["hit"]["dateHit"] = "2025-03-05 14:03:12"
    assert ingest(body).accepted[0].time == datetime(2025, 3, 5, 14, 3, 12, tzinfo=UTC)


def test_mautic_email_open_is_an_email_open_touch():
    (event,) = ingest(sample("mautic_email_open.json")).accepted
    touch = event.data
    assert (touch.touch_type, touch.channel, touch.content_id, touch.content_tags) == (
        "email_open",
        "email",
        "email:31",
        ["nurture"],
    )
    assert (event.key, event.time) == ("acme-robotics.com", datetime(2025, 3, 6, 7, 45, 2, tzinfo=UTC))
    assert touch.properties["email_name"] == "Nurture 2 - ROI calculator"


def test_mautic_email_open_wrapped_in_stat_is_read_too():
    entry = sample("mautic_email_open.json")["mautic.email_on_open"][0]
    stat = {"id": 901, "email": entry["email"], "lead": entry["contact"], "trackingHash": "65f1c2a9e8b3d"}
    stat["dateRead"] = "2025-03-06T07:45:01+00:00"
    (event,) = ingest({"mautic.email_on_open": [{"stat": stat, "timestamp": "2025-03-06T07:45:02+00:00"}]}).accepted
    assert (event.data.touch_type, event.key) == ("email_open", "acme-robotics.com")


def test_a_repeated_email_open_is_a_new_touch_but_a_redelivery_is_not():
    body = sample("mautic_email_open.json")
    later = copy.deepcopy(body)
    later["mautic.email_on_open"][0]["timestamp"] = "2025-03-07T10:00:00+00:00"
    ids = [ingest(b).accepted[0].id for b in (body, copy.deepcopy(body), later)]
    assert ids[0] == ids[1] != ids[2]


# --- format detection ---------------------------------------------------------------------------------------


def test_unsupported_content_type_is_rejected_naming_the_accepted_ones():
    assert errors(ingest({}, "text/plain")) == [
        "content-type: text/plain is not accepted: send one of application/json, "
        "application/cloudevents+json, application/cloudevents-batch+json"
    ]


def test_a_body_of_unknown_shape_is_rejected():
    assert errors(ingest({"hello": "world"}))[0].startswith("body: is not a CloudEvent")


def test_content_type_parameters_are_ignored():
    assert len(ingest(sample("segment_track.json"), "application/json; charset=utf-8").accepted) == 1


def test_received_at_must_be_timezone_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        adapt(JSON, sample("segment_track.json"), datetime(2025, 3, 10, 12, 0))


# --- odd input: every item is adapted or rejected, never an exception ---------------------------------------

JUNK = st.one_of(
    st.sampled_from(["", " ", "\x00", "a\x00b", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z", "0001-01-01T00:00:00"]),
    st.sampled_from(["http://[oops", "x" * 70_000, "9" * 5_000, "1,2,3" * 2_000, "www.x", "-a.com", "@", "a@b"]),
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and ±Infinity included: Python's json parser lets them through
    st.booleans(),
    st.none(),
    st.recursive(
        st.none() | st.text(max_size=5),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=8,
    ),
)
SAMPLE_BODIES = [
    ("segment_track.json", JSON),
    ("segment_identify.json", JSON),
    ("segment_page.json", JSON),
    ("mautic_form_submit.json", JSON),
    ("mautic_page_hit.json", JSON),
    ("mautic_email_open.json", JSON),
    ("cloudevents_batch.json", CLOUDEVENTS_BATCH),
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON document, the root's children first."""
    found: list[tuple[Any, ...]] = []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found += [(*path, key), *_paths(child, (*path, key))]
    return found


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(which=st.sampled_from(SAMPLE_BODIES), data=st.data())
def test_odd_values_anywhere_in_a_payload_never_raise_and_what_is_accepted_decodes(
    which: tuple[str, str], data: st.DataObject
) -> None:
    name, content_type = which
    body = sample(name)
    for path in data.draw(st.lists(st.sampled_from(_paths(body)), min_size=1, max_size=3)):
        target = body
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = data.draw(JUNK)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced a parent of this path
    result = ingest(body, content_type)  # decodes every accepted event again
    for error in result.rejected:
        assert error.field
        assert error.message
