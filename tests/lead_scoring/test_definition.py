"""The lead definition document: loading, and validation messages that name the rule and the field."""

from __future__ import annotations

from datetime import time
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from services.lead_scoring.definitions.document import (
    DefinitionError,
    definition_json_schema,
    grade_at_least,
    load_definition,
    parse_definition,
)
from tests.lead_scoring.builders import EXAMPLE_PATH, base_doc, example_doc, make_definition


def errors_of(doc: Any) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(doc)
    return caught.value.errors


def test_example_definition_loads_with_every_section():
    definition = load_definition(EXAMPLE_PATH.read_text(encoding="utf-8"))

    assert definition.version is None  # a draft until leadflow publishes it
    assert definition.engagement.half_life_days == 30
    assert {reason.code for reason in definition.rejection_reasons} == {
        "bad_timing",
        "no_budget",
        "wrong_contact",
        "not_a_fit",
        "duplicate",
        "already_in_pipeline",
    }
    assert definition.recycle["bad_timing"].track_id == "not-now"
    assert definition.recycle["bad_timing"].wait_days == 90
    assert definition.sla.business_hours.end == time(18, 0)
    assert [rule.kind for rule in definition.disqualifiers] == [
        "competitor_domain",
        "condition",
        "existing_customer",
        "no_consent",
    ]
    assert definition.hand_raisers[0].touch_types == ["demo_request", "contact_sales"]


def test_example_keeps_norway_as_a_country_code_not_false():
    definition = load_definition(EXAMPLE_PATH.read_text(encoding="utf-8"))

    country = next(rule for rule in definition.fit.rules if rule.id == "fit.country")
    assert country.when.in_ is not None
    assert "NO" in country.when.in_


def test_yaml_and_dict_give_the_same_definition():
    assert load_definition(EXAMPLE_PATH.read_text(encoding="utf-8")) == parse_definition(example_doc())


def test_example_validates_against_the_published_json_schema():
    schema = definition_json_schema()

    jsonschema.validate(example_doc(), schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "in" in schema["$defs"]["Condition"]["properties"]


def test_definition_is_immutable():
    definition = make_definition()

    with pytest.raises(ValidationError):
        definition.name = "edited"  # type: ignore[misc]


def test_engagement_rule_error_names_rule_number_id_and_field():
    doc = base_doc()
    doc["engagement"]["rules"][2]["half_life_days"] = -2

    assert errors_of(doc) == ["engagement rule 3 (`careers`): `half_life_days` must be > 0 (got -2)"]


def test_unknown_field_is_an_error_naming_the_field():
    doc = base_doc()
    doc["fit"]["rules"][0]["pionts"] = 5

    assert errors_of(doc) == ["fit rule 1 (`industry`): unknown field `pionts`"]


def test_missing_field_in_rule_without_id_is_named_by_position():
    doc = base_doc()
    del doc["fit"]["rules"][1]["id"]

    assert errors_of(doc) == ["fit rule 2: `id` is required"]


def test_missing_section_is_named():
    doc = base_doc()
    del doc["sla"]

    assert errors_of(doc) == ["`sla` is required"]


def test_all_errors_are_reported_at_once():
    doc = base_doc()
    doc["engagement"]["rules"][0]["points"] = "many"
    doc["mql"]["min_fit_grade"] = "E"

    assert errors_of(doc) == [
        "engagement rule 1 (`webinar`): `points` must be a number (got 'many')",
        "`mql.min_fit_grade` must be 'A', 'B', 'C' or 'D' (got 'E')",
    ]


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            {"field": "account.industry", "eq": "x", "in": ["y"]},
            "`when`: `field` needs exactly one operator of eq, neq, in, range, regex, exists (got eq, in)",
        ),
        (
            {"field": "account.industry"},
            "`when`: `field` needs exactly one operator of eq, neq, in, range, regex, exists",
        ),
        ({"in": ["software"]}, "`when`: `in` needs a `field` to test"),
        ({"all": [], "field": "account.x"}, "`when.all` must not be empty (at least 1)"),
        (
            {"all": [{"field": "account.x", "exists": True}], "any": [{"field": "account.y", "exists": True}]},
            "`when`: needs exactly one of `all`, `any`, `not` or `field` (got all, any)",
        ),
        ({"field": "company.size", "exists": True}, "`when.field` must match"),
        ({"field": "account.industry", "eq": {"a": 1}}, "`when.eq` must be a string, number or boolean"),
        ({"field": "contact.title", "regex": "(vp"}, "`when`: `regex` is not a valid regular expression"),
        ({"field": "account.employees", "range": {}}, "`when.range`: needs `min`, `max` or both"),
        ({"field": "account.employees", "range": {"min": 10, "max": 5}}, "`min` must be <= `max` (got 10 > 5)"),
        (
            {"any": [{"field": "account.x", "exists": True}, {"field": "account.y", "regex": "a", "eq": "b"}]},
            "`when.any.2`: `field` needs exactly one operator",
        ),
    ],
)
def test_condition_errors_name_the_rule_and_the_path(when, message):
    doc = base_doc()
    doc["fit"]["rules"][2]["when"] = when

    errors = errors_of(doc)

    assert len(errors) == 1
    assert errors[0].startswith("fit rule 3 (`vp`): ")
    assert message in errors[0]


def test_grades_must_descend():
    doc = base_doc()
    doc["fit"]["grades"] = {"A": 40, "B": 40, "C": 20}

    assert errors_of(doc) == ["`fit.grades`: grades must descend: A > B > C (got A=40, B=40, C=20)"]


def test_engagement_rule_needs_a_match_criterion_and_a_positive_cap():
    doc = base_doc()
    doc["engagement"]["rules"][0]["match"] = {}
    doc["engagement"]["rules"][1]["cap"] = {"max_points": 0, "window_days": 7}

    assert errors_of(doc) == [
        "engagement rule 1 (`webinar`): `match`: needs at least one of `touch_types`, `channels`, `campaigns`, "
        "`content_tags`",
        "engagement rule 2 (`open`): `cap.max_points` must be > 0 (got 0)",
    ]


@pytest.mark.parametrize(
    ("roll_up", "message"),
    [
        ({"method": "sum_top_n"}, "`account.roll_up`: `n` is required when method is sum_top_n"),
        ({"method": "max", "n": 3}, "`account.roll_up`: `n` only applies to method sum_top_n"),
        ({"method": "average"}, "`account.roll_up.method` must be 'sum_top_n' or 'max' (got 'average')"),
    ],
)
def test_roll_up_method_and_n_must_agree(roll_up, message):
    doc = base_doc()
    doc["account"]["roll_up"] = roll_up

    assert errors_of(doc) == [message]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"domains": None}, "disqualifier 1 (`competitor`): `domains` is required when kind is competitor_domain"),
        ({"when": {"field": "account.x", "exists": True}}, "disqualifier 1 (`competitor`): `when` only applies to"),
        ({"require_opt_in": True}, "disqualifier 1 (`competitor`): `require_opt_in` only applies to kind no_consent"),
        ({"reason_code": "Competitor"}, "disqualifier 1 (`competitor`): `reason_code` must match"),
        ({"kind": "blocked"}, "disqualifier 1 (`competitor`): `kind` must be 'competitor_domain', 'condition'"),
    ],
)
def test_disqualifier_fields_must_fit_its_kind(change, message):
    doc = base_doc()
    doc["disqualifiers"][0].update(change)

    errors = errors_of(doc)

    assert len(errors) == 1
    assert errors[0].startswith(message)


def test_hand_raiser_needs_touch_types_and_a_grade():
    doc = base_doc()
    doc["hand_raisers"][0]["touch_types"] = []
    doc["hand_raisers"][0]["min_fit_grade"] = "a"

    assert errors_of(doc) == [
        "hand-raiser 1 (`hand.demo`): `touch_types` must not be empty (at least 1) (got [])",
        "hand-raiser 1 (`hand.demo`): `min_fit_grade` must be 'A', 'B', 'C' or 'D' (got 'a')",
    ]


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"action": "nurture", "wait_days": 30}, "`track_id` is required when action is nurture"),
        ({"action": "wait"}, "`wait_days` is required when action is wait"),
        ({"action": "close", "track_id": "x"}, "`track_id` only applies to action nurture"),
        ({"action": "disqualify", "wait_days": 3}, "`wait_days` does not apply to action disqualify"),
        ({"action": "nurture", "track_id": "t", "wait_days": -1}, "`wait_days` must be >= 0 (got -1)"),
    ],
)
def test_recycle_policy_fields_must_fit_its_action(policy, message):
    doc = base_doc()
    doc["recycle"]["bad_timing"] = policy

    assert errors_of(doc) == [f"recycle policy for `bad_timing`: {message}"]


def test_every_rejection_reason_needs_exactly_one_known_recycle_policy():
    doc = base_doc()
    del doc["recycle"]["duplicate"]
    doc["recycle"]["too_small"] = {"action": "disqualify"}
    doc["rejection_reasons"].append({"code": "bad_timing", "label": "Again"})

    assert errors_of(doc) == [
        "rejection reason 3 (`bad_timing`): code `bad_timing` is listed twice",
        "recycle policy for `too_small`: `too_small` is not one of the rejection reasons",
        "recycle: no policy for rejection reason `duplicate`",
    ]


def test_rule_ids_are_unique_across_sections():
    doc = base_doc()
    doc["hand_raisers"][0]["id"] = "webinar"

    assert errors_of(doc) == [
        "hand-raiser 1 (`webinar`): id `webinar` is already used by engagement rule 1 (`webinar`)"
    ]


def test_committee_required_needs_a_committee_requirement():
    doc = base_doc()
    doc["account"]["committee"] = {}

    assert errors_of(doc) == ["mql: `committee_required` is true but `account.committee` requires nothing"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "`sla.business_hours.timezone` must be an IANA time zone"),
        ({"end": 1080}, '`sla.business_hours.end` must be a quoted time such as "18:00"'),
        ({"start": "18:00", "end": "09:00"}, "`sla.business_hours`: `start` must be before `end` (got 18:00 >= 09:00)"),
        ({"days": ["monday"]}, "`sla.business_hours.days.1` must be 'mon', 'tue'"),
    ],
)
def test_sla_business_hours_are_checked(change, message):
    doc = base_doc()
    doc["sla"]["business_hours"].update(change)

    errors = errors_of(doc)

    assert len(errors) == 1
    assert errors[0].startswith(message)


def test_sla_breach_action_is_escalate_reassign_or_return_to_queue():
    doc = base_doc()
    doc["sla"]["on_breach"] = "ignore"

    assert errors_of(doc) == ["`sla.on_breach` must be 'escalate', 'reassign' or 'return_to_queue' (got 'ignore')"]


def test_unquoted_yaml_time_gets_a_hint():
    text = EXAMPLE_PATH.read_text(encoding="utf-8").replace('end: "18:00"', "end: 18:00")

    with pytest.raises(DefinitionError) as caught:
        load_definition(text)

    assert caught.value.errors == [
        '`sla.business_hours.end` must be a quoted time such as "18:00" (got 1080: YAML reads unquoted 18:00 as 1080)'
    ]


def test_invalid_yaml_and_non_mapping_documents_are_definition_errors():
    with pytest.raises(DefinitionError, match="not valid YAML"):
        load_definition("fit: [unclosed")
    assert errors_of(["a", "list"]) == ["the definition must be a mapping of sections (got list)"]


def test_definition_error_lists_every_message():
    error = DefinitionError(["first problem", "second problem"])

    assert str(error) == "invalid lead definition:\n- first problem\n- second problem"


@pytest.mark.parametrize(
    ("grade", "minimum", "expected"),
    [("A", "B", True), ("B", "B", True), ("C", "B", False), ("D", "D", True), ("D", "C", False)],
)
def test_grade_at_least_treats_a_as_best(grade, minimum, expected):
    assert grade_at_least(grade, minimum) is expected
