"""config/nurture_tracks.example.yaml: valid, conforming to its JSON Schema, and placing leads as it says."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema

from services.nurture.tracks.compiled import CompiledTrack, TrackFile, compile_track, load_yaml, parse_file
from services.nurture.tracks.entry import choose_track
from services.nurture.tracks.matching import LeadProfile
from services.nurture.tracks.timing import step_due
from tests.clock import T0

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "config" / "nurture_tracks.example.yaml").read_text()


def _tracks() -> tuple[TrackFile, list[CompiledTrack]]:
    loaded = parse_file(load_yaml(TEXT))
    return loaded, [compile_track(doc, loaded.compiled_settings) for doc in loaded.tracks]


def test_the_example_validates_against_the_committed_json_schema() -> None:
    schema = json.loads((ROOT / "contracts" / "nurture_track.schema.json").read_text())
    jsonschema.validate(json.loads(json.dumps(load_yaml(TEXT), default=str)), schema)


def test_the_example_places_each_kind_of_lead_in_its_track() -> None:
    _, tracks = _tracks()
    leads = {
        "new raw lead": LeadProfile(stage="raw", fit_grade="C"),
        "engaged, fit A": LeadProfile(stage="engaged", fit_grade="A"),
        "engaged, fit C": LeadProfile(stage="engaged", fit_grade="C"),
        "bad timing": LeadProfile(stage="mql", recycle_reason="bad_timing"),
        "economic buyer": LeadProfile(stage="raw", buying_role="economic_buyer"),
        "user": LeadProfile(stage="raw", buying_role="user"),
    }
    placed = {name: getattr(choose_track(tracks, lead, [], T0).track, "key", None) for name, lead in leads.items()}
    assert placed == {
        "new raw lead": "awareness",
        "engaged, fit A": "consideration",
        "engaged, fit C": None,
        "bad timing": "not-now",
        "economic buyer": "awareness-economic-buyer",
        "user": "awareness-user",
    }


def test_the_economic_buyer_gets_roi_content_and_the_user_product_content() -> None:
    _, tracks = _tracks()
    by_key = {track.key: track for track in tracks}
    assert by_key["awareness-economic-buyer"].step(1).action.content_id == "roi-calculator"
    assert by_key["awareness-user"].step(1).action.content_id == "product-tour-video"


def test_the_awareness_schedule_in_paris() -> None:
    loaded, tracks = _tracks()
    awareness = tracks[0]
    zone = loaded.compiled_settings.default_zone
    welcome = step_due(awareness.step(1).wait, T0, zone)  # Monday 10:00 Paris is T0 itself
    guide = step_due(awareness.step(2).wait, welcome, zone)  # 3 business days later: Thursday 10:00 Paris
    assert (welcome, guide) == (T0, T0 + timedelta(days=3))
