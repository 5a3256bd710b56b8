"""Conditions of fit rules and disqualifiers: every operator, and/or nesting, and what a match reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from services.lead_scoring.definitions.conditions import Condition, Results, evaluate


def check(when: dict[str, Any], contact: Mapping[str, object], account: Mapping[str, object] | None = None):
    return evaluate(Condition.model_validate(when), contact, account)


def test_eq_ignores_case_of_text_and_reports_what_matched():
    assert check({"field": "account.industry", "eq": "software"}, {}, {"industry": "Software"}) == (
        "account.industry=Software",
    )
    assert check({"field": "account.industry", "eq": "software"}, {}, {"industry": "retail"}) is None


def test_eq_compares_numbers_by_value_but_never_true_with_one():
    assert check({"field": "account.employees", "eq": 50}, {}, {"employees": 50.0}) is not None
    assert check({"field": "account.is_customer", "eq": True}, {}, {"is_customer": 1}) is None
    assert check({"field": "account.is_customer", "eq": 1}, {}, {"is_customer": True}) is None
    assert check({"field": "account.is_customer", "eq": True}, {}, {"is_customer": True}) is not None
    assert check({"field": "account.employees", "eq": 50}, {}, {"employees": "50"}) is None


def test_in_matches_one_of_the_values():
    when = {"field": "contact.country", "in": ["DE", "FR"]}

    assert check(when, {"country": "fr"}) == ("contact.country=fr",)
    assert check(when, {"country": "IT"}) is None


@pytest.mark.parametrize(
    ("bounds", "employees", "matches"),
    [
        ({"min": 50, "max": 5000}, 50, True),
        ({"min": 50, "max": 5000}, 5000, True),
        ({"min": 50, "max": 5000}, 49, False),
        ({"min": 50, "max": 5000}, 5001, False),
        ({"min": 50}, 10**6, True),
        ({"max": 9}, 9, True),
        ({"max": 9}, 9.5, False),
        ({"min": 50}, "250", True),  # a form field arrives as text
        ({"min": 50}, "many", False),
        ({"min": 0}, True, False),  # a flag is not a headcount
    ],
)
def test_range_bounds_are_inclusive_and_may_be_open(bounds, employees, matches):
    found = check({"field": "account.employees", "range": bounds}, {}, {"employees": employees})

    assert (found is not None) is matches


def test_regex_searches_anywhere_ignoring_case_and_only_in_text():
    when = {"field": "contact.title", "regex": r"\b(vp|head of)\b"}

    assert check(when, {"title": "Head of Logistics"}) == ("contact.title=Head of Logistics",)
    assert check(when, {"title": "Senior VP, Operations"}) is not None
    assert check(when, {"title": "VPN administrator"}) is None
    assert check(when, {"title": 42}) is None


def test_exists_treats_missing_none_and_empty_text_alike():
    present = {"field": "contact.phone", "exists": True}
    absent = {"field": "contact.phone", "exists": False}

    assert check(present, {"phone": "+33 1 23"}) == ("contact.phone present",)
    contacts: list[dict[str, object]] = [{}, {"phone": None}, {"phone": ""}, {"phone": []}]
    for contact in contacts:
        assert check(present, contact) is None
        assert check(absent, contact) == ("contact.phone missing",)


def test_account_fields_are_missing_when_there_is_no_account():
    assert check({"field": "account.industry", "exists": False}, {}, None) == ("account.industry missing",)
    assert check({"field": "account.industry", "in": ["software"]}, {}, None) is None


def test_nested_field_paths_reach_into_mappings():
    when = {"field": "account.technology.crm", "eq": "salesforce"}

    assert check(when, {}, {"technology": {"crm": "Salesforce"}}) == ("account.technology.crm=Salesforce",)
    assert check(when, {}, {"technology": "salesforce"}) is None


def test_a_custom_field_is_read_as_contact_name_and_explained_so():
    when = {"field": "contact.plan", "eq": "enterprise"}

    assert check(when, {"custom": {"plan": "Enterprise"}}) == ("contact.plan=Enterprise",)
    assert check(when, {"plan": "Enterprise", "custom": {}}) == ("contact.plan=Enterprise",)  # stored so earlier
    assert check(when, {"plan": "enterprise", "custom": {"plan": "free"}}) is None  # the newer value
    assert check(when, {"custom": "enterprise"}) is None
    assert check({"field": "contact.plan", "exists": False}, {"custom": {}}) == ("contact.plan missing",)


def test_a_custom_field_named_like_a_trait_is_read_only_under_custom_and_never_as_the_trait():
    salutation = {"title": "VP Operations", "custom": {"title": "Ms"}}

    assert check({"field": "contact.title", "regex": "vp"}, salutation) == ("contact.title=VP Operations",)
    assert check({"field": "contact.title", "exists": True}, {"custom": {"title": "Ms"}}) is None
    assert check({"field": "contact.custom.title", "eq": "ms"}, salutation) == ("contact.custom.title=Ms",)


def test_contact_custom_name_reads_nothing_for_a_field_read_as_contact_name():
    occupation = {"custom": {"occupation": "Student"}}

    assert check({"field": "contact.custom.occupation", "eq": "student"}, occupation) is None
    assert check({"field": "contact.custom.occupation", "exists": False}, occupation) == (
        "contact.custom.occupation missing",
    )
    assert check({"field": "contact.occupation", "eq": "student"}, occupation) == ("contact.occupation=Student",)


def test_list_valued_attribute_matches_when_one_item_does():
    when = {"field": "contact.interests", "in": ["automation"]}

    assert check(when, {"interests": ["pricing", "Automation"]}) == ("contact.interests=Automation",)
    assert check(when, {"interests": ["pricing"]}) is None


def test_all_needs_every_part_and_reports_each_field_once():
    when = {
        "all": [
            {"field": "contact.title", "regex": "director"},
            {"any": [{"field": "contact.title", "regex": "ops"}, {"field": "contact.job_function", "eq": "it"}]},
            {"field": "account.employees", "range": {"min": 50}},
        ]
    }

    assert check(when, {"title": "Director Ops"}, {"employees": 80}) == (
        "contact.title=Director Ops",
        "account.employees=80",
    )
    assert check(when, {"title": "Director Ops"}, {"employees": 20}) is None


def test_any_reports_the_first_part_that_holds():
    when = {"any": [{"field": "contact.job_function", "eq": "it"}, {"field": "contact.title", "regex": "ops"}]}

    assert check(when, {"job_function": "IT", "title": "Ops lead"}) == ("contact.job_function=IT",)
    assert check(when, {"title": "Ops lead"}) == ("contact.title=Ops lead",)
    assert check(when, {"title": "CFO"}) is None


def test_remembered_results_are_those_of_evaluating_each_time():
    conditions = [
        Condition.model_validate(when)
        for when in (
            {"field": "account.is_customer", "eq": True},
            {"field": "account.employees", "in": [50, "fifty"]},
            {"field": "contact.interests", "in": ["automation"]},
            {"all": [{"field": "contact.title", "regex": "director"}, {"field": "account.employees", "exists": True}]},
        )
    ]
    # Values Python finds equal but a definition tells apart (True, 1, 1.0; 50, 50.0 report differently), lists,
    # absent and None: one memo across all of them must answer as evaluating each time does.
    values: list[object] = [True, 1, 1.0, 50, 50.0, "50", "Fifty", None, ["Automation"], ["pricing"], {"a": 1}]
    results = Results()
    for _ in range(2):
        for value in values:
            for contact, account in (
                ({"interests": value, "title": "Director"}, {"is_customer": value, "employees": value}),
                ({}, {}),
                ({"title": value}, None),
            ):
                for condition in conditions:
                    assert results.evaluate(condition, contact, account) == evaluate(condition, contact, account)


def test_neq_matches_a_value_that_differs_but_never_a_missing_one():
    when = {"field": "account.industry", "neq": "education"}

    assert check(when, {}, {"industry": "Software"}) == ("account.industry!=education",)
    assert check(when, {}, {"industry": "EDUCATION"}) is None  # text ignores case, as eq does
    assert check(when, {}, {}) is None  # missing: unknown, not different
    assert check(when, {}, None) is None


def test_neq_on_a_list_matches_only_when_no_item_is_equal():
    when = {"field": "contact.tags", "neq": "student"}

    assert check(when, {"tags": ["buyer", "admin"]}) == ("contact.tags!=student",)
    assert check(when, {"tags": ["buyer", "Student"]}) is None


def test_not_inverts_a_condition_and_a_missing_value_counts_as_not_matching():
    when = {"not": {"field": "contact.title", "regex": "student|intern"}}

    assert check(when, {"title": "VP Operations"}) == ("not contact.title",)
    assert check(when, {"title": "Marketing Intern"}) is None
    assert check(when, {}) == ("not contact.title",)


def test_not_nests_with_all_and_any():
    when = {
        "all": [
            {"field": "account.country", "eq": "DE"},
            {
                "not": {
                    "any": [
                        {"field": "account.industry", "eq": "education"},
                        {"field": "account.employees", "range": {"max": 9}},
                    ]
                }
            },
        ]
    }

    assert check(when, {}, {"country": "DE", "industry": "software", "employees": 120}) == (
        "account.country=DE",
        "not account.employees",
        "not account.industry",
    )
    assert check(when, {}, {"country": "DE", "industry": "software", "employees": 5}) is None
    assert Condition.model_validate(when).account_only


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"not": {"field": "contact.title", "eq": "x"}, "field": "contact.title"}, "exactly one of"),
        ({"field": "contact.title", "eq": "x", "neq": "y"}, "exactly one operator"),
    ],
)
def test_not_and_neq_take_their_place_among_the_shapes_and_operators(when: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Condition.model_validate(when)
