"""The routing document: the example loads and routes; every kind of error names the rule or rep and the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from services.handoff.org.changes import describe_changes
from services.handoff.org.document import RoutingDocumentError, parse_document, rep_id
from services.handoff.org.domain import build_org
from services.handoff.routing.domain import route
from services.handoff.routing.model import LeadToRoute
from tests.handoff.org.documents import small

# Tuesday 10 March 2026, 10:30 in Berlin and 09:30 in London: the EMEA teams are at work.
TUESDAY_MORNING = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "routing.example.yaml"


def problems(raw: Any) -> list[tuple[str, str]]:
    """The (field, message) of each problem of a document that must not build."""
    with pytest.raises(RoutingDocumentError) as caught:
        build_org(1, parse_document(raw))
    return [(problem.field, problem.message) for problem in caught.value.problems]


def test_the_example_org_loads_and_routes_by_its_rules() -> None:
    current = build_org(1, parse_document(yaml.safe_load(EXAMPLE.read_text())))

    assert len(current.teams) == 3
    assert sum(profile.role == "manager" for profile in current.reps.values()) == 3
    assert sum(profile.role == "rep" for profile in current.reps.values()) >= 12
    for profile in current.reps.values():
        if profile.role == "rep":
            assert profile.manager_id is not None, profile.email  # every rep has a manager to escalate to
    german_enterprise = LeadToRoute(
        lead_id=rep_id("lead@bigco.de"), country="DE", region="EMEA", employee_band="5000+", fit_grade="A"
    )
    decision = route(german_enterprise, current.org, {}, {}, TUESDAY_MORNING)
    winner = current.reps[decision.rep_id] if decision.rep_id else None
    assert winner is not None
    assert winner.team == "emea_enterprise"


def test_a_small_org_builds_with_ids_from_emails_and_profiles() -> None:
    current = build_org(7, parse_document(small()))

    assert current.version == 7
    assert current.rep_by_email("BEN@acme.example") == current.reps[rep_id("ben@acme.example")]
    rule = current.org.rules[0]
    assert (rule.target.kind, rule.target.rep_id) == ("rep", rep_id("ana@acme.example"))
    assert [(condition.field, condition.op, condition.values) for condition in rule.conditions] == [
        ("fit_grade", "eq", ("A",)),
        ("region", "eq", ("EMEA",)),
    ]
    assert current.org.rules[1].conditions[0].op == "in"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda d: d["rules"][1].update(target={"kind": "pool", "team": "apac"}),
            "rules.1.target.team",
            "rule 2 (EMEA): target.team: unknown team 'apac'",
        ),
        (
            lambda d: d["rules"][0].update(target={"kind": "rep", "rep": "zoe@acme.example"}),
            "rules.0.target.rep",
            "rule 1 (Strategic accounts): target.rep: unknown rep zoe@acme.example",
        ),
        (
            lambda d: d["rules"][0]["conditions"].append({"field": "colour", "eq": "red"}),
            "rules.0.conditions.2.field",
            "rule 1 (Strategic accounts): conditions[2].field: Input should be 'country', 'region'",
        ),
        (
            lambda d: d["rules"][0]["conditions"].append({"field": "country", "eq": "DE", "in": ["AT"]}),
            "rules.0.conditions.2",
            "rule 1 (Strategic accounts): conditions[2]: give exactly one of `eq` (a value) or `in`",
        ),
        (
            lambda d: d["rules"][2].update(target={"kind": "pool"}),
            "rules.2.target",
            "rule 3 (Everyone else): target: kind pool needs `team` and no `rep`",
        ),
        (
            lambda d: d["rules"].append({"name": "EMEA", "target": {"kind": "unrouted"}}),
            "rules.3.name",
            "rule 4 (EMEA): name: the same name as rule 2",
        ),
        (
            lambda d: d["reps"][1].update(weight=0),
            "reps.1.weight",
            "rep ana@acme.example: weight: Input should be greater than 0",
        ),
        (lambda d: d["reps"][1].update(team="apac"), "reps.1.team", "rep ana@acme.example: team: unknown team 'apac'"),
        (
            lambda d: d["reps"][2].update(calendar="paris"),
            "reps.2.calendar",
            "rep ben@acme.example: calendar: unknown calendar 'paris' (known: berlin, new_york)",
        ),
        (
            lambda d: d["reps"][1].update(
                out_of_office=[{"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}]
            ),
            "reps.1.out_of_office.0",
            "rep ana@acme.example: out_of_office[0]: end 2026-01-01T00:00:00+00:00 must be after start",
        ),
        (lambda d: d["reps"][1].update(colour="red"), "reps.1.colour", "rep ana@acme.example: colour: Extra inputs"),
        (
            lambda d: d["reps"].append({**d["reps"][1], "email": "ANA@acme.example"}),
            "reps.5.email",
            "rep ana@acme.example: email: listed twice (also reps[1])",
        ),
        (
            lambda d: d["reps"][2].update(owns_accounts=["bmw.de"]),
            "reps.2.owns_accounts",
            "rep ben@acme.example: owns_accounts: bmw.de is already owned by ana@acme.example",
        ),
        (
            lambda d: d["teams"][0].update(manager="ana@acme.example"),
            "teams.0.manager",
            "team emea: manager: ana@acme.example: that rep's role is not manager",
        ),
        (
            lambda d: d["calendars"]["berlin"].update(time_zone="Mars/Base"),
            "calendars.berlin.time_zone",
            "calendar berlin: time_zone: unknown IANA time zone 'Mars/Base'",
        ),
        (
            lambda d: d["calendars"]["berlin"].update(working_hours={"monday": ["9-5"]}),
            "calendars.berlin.working_hours.monday.0",
            "calendar berlin: working_hours.monday[0]: '9-5' is not a range HH:MM-HH:MM",
        ),
    ],
)
def test_each_kind_of_error_names_the_rule_or_rep_and_the_field(change: Any, field: str, message: str) -> None:
    document = small()
    change(document)

    found = problems(document)

    assert any(got_field == field and got.startswith(message) for got_field, got in found), found


def test_a_pool_of_managers_only_is_refused() -> None:
    document = small()
    document["reps"] = [rep for rep in document["reps"] if rep["email"] != "nia@acme.example"]

    assert problems(document) == [
        ("rules.2.target.team", "rule 3 (Everyone else): target.team: team 'na' has no rep with role rep in its pool")
    ]


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert problems(["reps"]) == [("body", "the document must be a mapping (got list)")]


def test_changes_read_as_a_manager_would_say_them() -> None:
    before = parse_document(small())
    document = small()
    document["reps"][1].update(
        active=False, out_of_office=[{"start": "2026-08-01T00:00:00Z", "end": "2026-08-15T00:00:00Z"}]
    )
    document["teams"][1]["region"] = "Americas"
    document["rules"] = [document["rules"][1], document["rules"][0], document["rules"][2]]
    document["rules"][2]["respect_working_hours"] = False
    del document["calendars"]["new_york"]["holidays"]

    assert describe_changes(before, parse_document(document)) == [
        "calendar new_york changed",
        "team na region North America -> Americas",
        "rep ana@acme.example out_of_office + {start: 2026-08-01T00:00:00Z, end: 2026-08-15T00:00:00Z}",
        "rep ana@acme.example active true -> false",
        "rule EMEA moved 2 -> 1",
        "rule Strategic accounts moved 1 -> 2",
        "rule 3 (Everyone else) respect_working_hours true -> false",
    ]


def test_the_example_validates_against_the_committed_json_schema() -> None:
    schema = json.loads((EXAMPLE.parents[1] / "contracts" / "routing.schema.json").read_text())
    # YAML reads dates and times as Python values; an editor validates their JSON text.
    document = json.loads(json.dumps(yaml.safe_load(EXAMPLE.read_text()), default=lambda value: value.isoformat()))

    jsonschema.Draft202012Validator(schema).validate(document)
    assert schema["$id"] == "contracts/routing.schema.json"
