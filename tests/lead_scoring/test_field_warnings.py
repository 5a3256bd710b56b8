"""A rule that reads a field path or touch type never seen is accepted with a warning naming the closest known."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

from services.lead_scoring.definitions.conditions import NAMED_CONTACT_FIELDS
from services.lead_scoring.definitions.document import parse_definition
from services.lead_scoring.definitions.field_paths import (
    CONTACT_PATHS,
    FIXED_PATHS,
    custom_path,
    field_warnings,
    known_paths,
    known_touch_types,
)
from tests.lead_scoring.test_adapters import sample
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


def _known_paths(api: Any) -> set[str]:
    return {item["path"] for item in api.call("GET", "/v1/definitions/fields", "manager").json()["paths"]}


def test_a_path_never_seen_names_the_rule_and_the_closest_known_paths() -> None:
    definition = parse_definition(_with_rules("contact.custom.occupation"))
    paths = known_paths(["contact.occupation"])  # where the field was seen

    warnings = field_warnings(definition, set(paths), known_touch_types([]))

    assert [(w.rule, w.name, w.suggestions[0]) for w in warnings] == [
        (f"fit rule {len(definition.fit.rules)} (`fit.extra0`)", "contact.custom.occupation", "contact.occupation")
    ]
    assert "`contact.custom.occupation` has never been seen" in warnings[0].message
    assert "closest known: `contact.occupation`" in warnings[0].message


def test_contact_custom_name_suggests_contact_name_first_even_when_other_paths_are_closer_in_spelling() -> None:
    definition = parse_definition(_with_rules("contact.custom.plan"))
    paths = known_paths(["contact.plan", "contact.custom.title", "contact.custom_plan"])

    [warning] = field_warnings(definition, set(paths), known_touch_types([]))

    assert warning.suggestions[0] == "contact.plan"
    assert len(warning.suggestions) == len(set(warning.suggestions)) <= 3


def test_a_custom_field_is_read_at_contact_name_unless_a_named_attribute_shadows_it() -> None:
    assert custom_path("occupation") == "contact.occupation"
    assert custom_path("title") == "contact.custom.title"  # Mautic's salutation
    assert custom_path("email_domain") == "contact.custom.email_domain"
    assert custom_path("custom") == "contact.custom.custom"
    assert [custom_path(name) for name in ("job title", "a.b", "1st", "")] == [None] * 4
    # Every fixed contact path is a named attribute: a custom field never takes its place.
    assert {f"contact.{name}" for name in NAMED_CONTACT_FIELDS - {"custom"}} == set(CONTACT_PATHS)


def test_migration_0003_backfills_the_paths_custom_path_gives() -> None:
    path = Path(__file__).parents[2] / "migrations/lead_scoring/versions/0003_known_field.py"
    spec = importlib.util.spec_from_file_location("known_field_0003", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    names = [*NAMED_CONTACT_FIELDS, "occupation", "plan", "Title", "job title", "a.b"]
    assert [migration.readable_path(name) for name in names] == [custom_path(name) for name in names]


def test_a_touch_type_never_seen_suggests_the_catalog_one_it_resembles() -> None:
    definition = parse_definition(_with_rules(touch_type="webinar_attend"))

    warnings = field_warnings(definition, set(known_paths([])), known_touch_types([]))

    assert [(w.kind, w.name, w.suggestions[0]) for w in warnings] == [
        ("touch_type", "webinar_attend", "webinar_attended")
    ]


def test_the_shipped_example_reads_only_known_paths_but_the_customer_flag_nothing_sets() -> None:
    warnings = field_warnings(parse_definition(example_document()), set(known_paths([])), known_touch_types([]))

    assert [(w.name, w.kind) for w in warnings] == [("account.is_customer", "path")]


def test_issue_12_a_rule_on_contact_custom_occupation_is_warned_and_never_fires_where_contact_occupation_does(
    local_api,
) -> None:
    identify = segment(
        "identify", "m-occ", "2026-11-02T09:00:00Z", traits={"email": "dana@acme-robotics.com", "occupation": "Student"}
    )
    assert local_api.call("POST", "/v1/touches", "marketing_automation", json=identify).status_code == 202
    wait_for(lambda: "contact.occupation" in _known_paths(local_api))  # the consumer stored Dana

    document = _with_rules("contact.occupation", "contact.custom.occupation")
    created = local_api.call("POST", "/v1/definitions", "marketing_ops", json={"document": document})
    assert created.status_code == 201, created.text
    [warning] = created.json()["warnings"]
    assert (warning["rule"], warning["name"]) == (
        f"fit rule {len(document['fit']['rules'])} (`fit.extra1`)",
        "contact.custom.occupation",
    )
    assert warning["suggestions"][0] == "contact.occupation"
    assert "closest known: `contact.occupation`" in warning["message"]

    window = {"start": "2026-11-01T00:00:00Z", "end": "2026-11-03T00:00:00Z"}
    asked = local_api.call("POST", f"/v1/definitions/{created.json()['id']}/simulate", "manager", json=window)
    assert asked.status_code == 202, asked.text
    job = wait_for(
        lambda: (job := local_api.call("GET", asked.headers["location"], "manager").json())["result"] and job
    )

    rules = {rule["rule_id"]: rule for rule in job["result"]["draft"]["rules"]}
    assert (rules["fit.extra1"]["contacts"], rules["fit.extra1"]["never_fired"]) == (0, True)
    assert "fit.extra1" in job["result"]["draft"]["never_fired"]
    assert (rules["fit.extra0"]["contacts"], rules["fit.extra0"]["never_fired"]) == (1, False)


def test_custom_fields_seen_are_listed_and_a_rule_on_the_custom_prefix_is_warned(local_api) -> None:
    identify = segment(
        "identify",
        "m-occ",
        "2026-11-02T09:00:00Z",
        traits={"email": "ana@example.org", "occupation": "Student", "salutation": "Ms"},
    )
    assert local_api.call("POST", "/v1/touches", "marketing_automation", json=identify).status_code == 202

    def fields() -> Any:
        answer = local_api.call("GET", "/v1/definitions/fields", "manager").json()
        return answer if any(item["path"] == "contact.occupation" for item in answer["paths"]) else None

    known = wait_for(fields)
    assert {item["path"] for item in known["paths"] if item["source"] == "fixed"} == set(FIXED_PATHS)
    custom = {item["path"]: item["description"] for item in known["paths"] if item["source"] == "custom"}
    assert custom == {
        "contact.occupation": "A custom field of the sending system.",
        "contact.salutation": "A custom field of the sending system.",
    }
    assert "webinar_attended" in known["touch_types"]

    document = _with_rules("contact.occupation", "contact.custom.occupation")
    created = local_api.call("POST", "/v1/definitions", "marketing_ops", json={"document": document})
    assert created.status_code == 201, created.text
    warned = {w["name"]: w for w in created.json()["warnings"]}
    assert set(warned) == {"contact.custom.occupation"}  # the custom field is read as contact.<name>
    assert warned["contact.custom.occupation"]["suggestions"][0] == "contact.occupation"
    assert warned["contact.custom.occupation"]["rule"].endswith("(`fit.extra1`)")

    checked = local_api.call("POST", "/v1/definitions/validate", "sales_ops", json={"document": document})
    assert checked.status_code == 200
    assert [w["name"] for w in checked.json()] == ["contact.custom.occupation"]
    edited = local_api.call("PUT", f"/v1/definitions/{created.json()['id']}", "sales_ops", json={"document": document})
    assert [w["name"] for w in edited.json()["warnings"]] == ["contact.custom.occupation"]
    shown = local_api.call("GET", f"/v1/definitions/{created.json()['id']}", "manager").json()
    assert [w["name"] for w in shown["warnings"]] == ["contact.custom.occupation"]


def test_mautics_salutation_is_listed_under_custom_and_a_rule_reads_it_there_without_a_warning(local_api) -> None:
    # Mautic's core `title` is a salutation ("Ms"), its `position` the job title.
    answer = local_api.call("POST", "/v1/touches", "marketing_automation", json=sample("mautic_form_submit.json"))
    assert answer.status_code == 202, answer.text

    def fields() -> Any:
        answer = local_api.call("GET", "/v1/definitions/fields", "manager").json()
        return answer if any(item["path"] == "contact.custom.title" for item in answer["paths"]) else None

    known = {item["path"]: item for item in wait_for(fields)["paths"]}
    assert known["contact.custom.title"]["source"] == "custom"
    assert "`contact.title`, which it never replaces" in known["contact.custom.title"]["description"]
    assert known["contact.title"]["source"] == "fixed"
    checked = local_api.call(
        "POST", "/v1/definitions/validate", "sales_ops", json={"document": _with_rules("contact.custom.title")}
    )
    assert checked.json() == []


def test_validating_a_broken_document_is_a_problem_naming_the_rule(local_api) -> None:
    document = example_document()
    document["engagement"]["rules"][0]["half_life_days"] = -2

    answer = local_api.call("POST", "/v1/definitions/validate", "marketing_ops", json={"document": document})

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "half_life_days" in answer.json()["detail"]
