"""The track document and its compiled form: what is accepted, and errors that name the track, step and field."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest

from services.nurture.tracks.compiled import compile_settings, compile_track, parse_file, parse_track
from services.nurture.tracks.problems import TrackError
from tests.nurture.builders import settings, settings_doc, track, track_doc


def _problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(TrackError) as caught:
        compile_track(doc, settings())
    return [str(problem) for problem in caught.value.problems]


def test_a_track_compiles_to_numbered_steps_with_their_successors() -> None:
    compiled = track(version=3)

    assert (compiled.key, compiled.version, compiled.priority) == ("awareness", 3, 10)
    assert [(step.number, step.id, step.next) for step in compiled.steps] == [
        (1, "welcome", 2),
        (2, "guide", 3),
        (3, "case-study", None),
        (4, "reminder", None),
    ]
    guide = compiled.step(2)
    assert guide.wait.business_days == 2
    assert guide.wait.calendar is not None
    assert guide.wait.at == time(10)
    assert guide.branch is not None
    assert (guide.branch.within, guide.branch.otherwise) == (timedelta(days=5), 4)
    assert compiled.step(3).wait.duration == timedelta(days=3)
    assert compiled.entry.stages == frozenset({"raw"})
    assert compiled.exit_on == {"qualified", "disqualified", "unsubscribed", "erased", "handed_off", "converted"}
    assert (compiled.reentry_allowed, compiled.cooldown) == (True, timedelta(days=30))


def test_a_wrong_field_of_a_step_is_named_with_the_track_and_the_step() -> None:
    doc = track_doc()
    doc["steps"][1]["wait"]["business_days"] = 0

    assert _problems(doc) == ["track `awareness`, step 2 (`guide`): `wait.business_days` must be >= 1 (got 0)"]


def test_an_unknown_channel_and_an_unknown_field_are_both_reported() -> None:
    doc = track_doc()
    doc["steps"][0]["action"]["channel"] = "carrier_pigeon"
    doc["steps"][2]["colour"] = "blue"

    problems = _problems(doc)

    assert problems[0].startswith("track `awareness`, step 1 (`welcome`): `action.channel` must be 'email'")
    assert problems[1] == "track `awareness`, step 3 (`case-study`): unknown field `colour`"


def test_a_branch_must_go_forward_to_a_step_that_exists() -> None:
    doc = track_doc()
    doc["steps"][1]["branch"]["otherwise"] = "welcome"
    doc["steps"][2]["next"] = "nowhere"

    assert _problems(doc) == [
        "track `awareness`, step 2 (`guide`): `branch.otherwise`: `welcome` is an earlier step or itself: "
        "name a later step or end",
        "track `awareness`, step 3 (`case-study`): `next`: `nowhere` is no step: name a later step or end",
    ]


def test_step_ids_are_unique_and_calendars_must_exist() -> None:
    doc = track_doc()
    doc["steps"][2]["id"] = "welcome"
    doc["steps"][1]["wait"]["calendar"] = "tokyo"

    assert _problems(doc) == [
        "track `awareness`, step 2 (`guide`): `wait.calendar`: no calendar `tokyo` in the nurture settings "
        "(known: paris)",
        "track `awareness`, step 3 (`welcome`): `id`: `welcome` is already the id of step 1",
    ]


@pytest.mark.parametrize(
    ("wait", "message"),
    [
        ({"business_days": 2}, "`calendar` is required with `business_days`"),
        ({"duration": "P1D", "business_days": 1, "calendar": "paris"}, "give `duration` or `business_days`, not both"),
        ({"duration": "-P1D"}, "must be between 0 and 3660 days"),
        ({"at": 1080}, 'must be a quoted time such as "18:00"'),
    ],
)
def test_a_wait_is_a_duration_or_business_days_then_a_time_of_day(wait: dict[str, Any], message: str) -> None:
    doc = track_doc()
    doc["steps"][0]["wait"] = wait

    (problem,) = _problems(doc)

    assert problem.startswith("track `awareness`, step 1 (`welcome`): `wait")
    assert message in problem


def test_unsubscribe_and_erasure_always_end_an_enrollment() -> None:
    assert _problems(track_doc(exit_on=["qualified"])) == [
        "track `awareness`: `exit_on` must include unsubscribed and erased: consent is not optional"
    ]


def test_a_track_that_is_not_a_mapping_says_so() -> None:
    with pytest.raises(TrackError, match="a track must be a mapping"):
        parse_track(["steps"])  # type: ignore[arg-type]


def test_errors_carry_the_field_path_for_problem_json() -> None:
    doc = track_doc()
    doc["steps"][1]["action"]["content_id"] = ""

    with pytest.raises(TrackError) as caught:
        compile_track(doc, settings())

    item = caught.value.problems[0].as_dict()
    assert item["field"] == "steps.2.action.content_id"
    assert (item["track"], item["step"], item["step_id"]) == ("awareness", 2, "guide")


def test_settings_hold_caps_per_channel_and_quiet_hours() -> None:
    compiled = settings()

    assert compiled.caps["email"].max_actions == 2
    assert compiled.caps["email"].window == timedelta(days=7)
    assert compiled.quiet_hours is not None
    assert compiled.quiet_hours.channels == {"email", "sales_task"}
    assert str(compiled.default_zone) == "Europe/Paris"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"default_time_zone": "Mars/Olympus"}, "`default_time_zone` must be an IANA time zone"),
        ({"caps": [{"channel": "email", "max_actions": 0, "window_days": 7}]}, "`caps.1.max_actions` must be >= 1"),
        ({"quiet_hours": {"start": "20:00", "end": "20:00"}}, "`start` and `end` must differ"),
        ({"calendars": {"paris": {**settings_doc()["calendars"]["paris"], "time_zone": "Nowhere/City"}}}, "calendar"),
    ],
)
def test_bad_settings_are_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(TrackError) as caught:
        compile_settings(settings_doc(**changes))

    (problem,) = caught.value.problems
    assert str(problem).startswith("nurture settings: ")
    assert message in str(problem)


def test_a_file_reports_every_problem_of_every_track_at_once() -> None:
    bad = track_doc("consideration")
    bad["steps"][0]["action"]["content_id"] = ""
    nameless = track_doc()
    del nameless["key"]
    doc = {**settings_doc(), "tracks": [track_doc(), bad, track_doc(), nameless]}

    with pytest.raises(TrackError) as caught:
        parse_file(doc)

    assert [str(problem) for problem in caught.value.problems] == [
        "track `consideration`, step 1 (`welcome`): `action.content_id` must not be empty (got '')",
        "track `awareness`: `key`: track 3 reuses the key of an earlier track",
        "track `#4`: `key` is required",
    ]


def test_a_valid_file_gives_its_settings_and_tracks() -> None:
    loaded = parse_file({**settings_doc(), "tracks": [track_doc(), track_doc("consideration")]})

    assert [document.key for document in loaded.tracks] == ["awareness", "consideration"]
    assert loaded.compiled_settings.caps["email"].max_actions == 2
