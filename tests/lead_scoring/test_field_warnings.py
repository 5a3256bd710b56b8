"""A rule that reads a field path or touch type never seen is accepted with a warning naming the closest known."""

from __future__ import annotations

import copy
from typing import Any

from services.lead_scoring.definition import parse_definition
from services.lead_scoring.field_paths import FIXED_PATHS, field_warnings, known_paths, known_touch_types
from tests.lead_scoring.test_definition_api import example_document
from tests.lead_scoring.test_journey_local import segment, wait_for


def _with_rules(*fit_paths: str, touch_type: str | None = None) -> dict[str, Any]:
    document = copy.deepcopy(example_document())
    document["disqualifiers"] = [d for d in document["disqualifiers"] if d["kind"] != "existing_customer"]
    for position, path in enumerate(fit_paths):
        document["fit"]["rules"].append(
            {"id": f"fit.extra{position}", "when": {"field": path, "eq": "Student"}, "points": -10}
        )
    if touch_type:
        rule = {"id": "eng.extra", "match": {"touch_types": [touch_type]}, "points": 5}
        document["engagement"]["rules"].append(rule)
    return document


def test_a_path_never_seen_names_the_rule_and_the_closest_known_paths() -> None:
    definition = parse_definition(_with_rules("contact.custom.occupation"))
    paths = known_paths(["contact.occupation"])  # where the field was seen

    warnings = field_warnings(definition, set(paths), known_touch_types([]))

    assert [(w.rule, w.name, w.suggestions[0]) for w in warnings] == [
        (f"fit rule {len(definition.fit.rules)} (`fit.extra0`)", "contact.custom.occupation", "contact.occupation")
    ]
    assert "`contact.custom.occupation` has never been seen" in warnings[0].message
    assert "closest known: `contact.occupation`" in warnings[0].message


def test_a_touch_type_never_seen_suggests_the_catalog_one_it_resembles() -> None:
    definition = parse_definition(_with_rules(touch_type="webinar_attend"))

    warnings = field_warnings(definition, set(known_paths([])), known_touch_types([]))

    assert [(w.kind, w.name, w.suggestions[0]) for w in warnings] == [
        ("touch_type", "webinar_attend", "webinar_attended")
    ]


def test_the_shipped_example_reads_only_known_paths_but_the_customer_flag_nothing_sets() -> None:
    warnings = field_warnings(parse_definition(example_document()), set(known_paths([])), known_touch_types([]))

    assert [(w.name, w.kind) for w in warnings] == [("account.is_customer", "path")]


def test_custom_fields_seen_are_listed_and_a_rule_on_the_wrong_prefix_is_warned(local_api) -> None:
    identify = segment(
        "identify", "m-occ", "2026-11-02T09:00:00Z", traits={"email": "ana@example.org", "occupation": "Student"}
    )
    assert local_api.call("POST", "/v1/touches", "marketing_automation", json=identify).status_code == 202

    def fields() -> Any:
        answer = local_api.call("GET", "/v1/definitions/fields", "manager").json()
        return answer if any(item["path"] == "contact.custom.occupation" for item in answer["paths"]) else None

    known = wait_for(fields)
    assert {item["path"] for item in known["paths"] if item["source"] == "fixed"} == set(FIXED_PATHS)
    assert "webinar_attended" in known["touch_types"]

    document = _with_rules("contact.occupation", "contact.custom.occupation")
    created = local_api.call("POST", "/v1/definitions", "marketing_ops", json={"document": document})
    assert created.status_code == 201, created.text
    warned = {w["name"]: w for w in created.json()["warnings"]}
    assert set(warned) == {"contact.occupation"}  # the custom field is read where it lands
    assert warned["contact.occupation"]["suggestions"][0] == "contact.custom.occupation"
    assert warned["contact.occupation"]["rule"].endswith("(`fit.extra0`)")

    checked = local_api.call("POST", "/v1/definitions/validate", "sales_ops", json={"document": document})
    assert checked.status_code == 200
    assert [w["name"] for w in checked.json()] == ["contact.occupation"]
    edited = local_api.call("PUT", f"/v1/definitions/{created.json()['id']}", "sales_ops", json={"document": document})
    assert [w["name"] for w in edited.json()["warnings"]] == ["contact.occupation"]
    shown = local_api.call("GET", f"/v1/definitions/{created.json()['id']}", "manager").json()
    assert [w["name"] for w in shown["warnings"]] == ["contact.occupation"]


def test_validating_a_broken_document_is_a_problem_naming_the_rule(local_api) -> None:
    document = example_document()
    document["engagement"]["rules"][0]["half_life_days"] = -2

    answer = local_api.call("POST", "/v1/definitions/validate", "marketing_ops", json={"document": document})

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "half_life_days" in answer.json()["detail"]
