"""`leadflow nurture tracks load FILE` and `leadflow nurture tracks` against `leadflow up`."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.test_cli import _cli, running_up  # noqa: F401 - the fixture that starts `leadflow up`

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "config" / "nurture_tracks.example.yaml")


def test_loading_the_example_activates_every_track_again_changes_nothing_and_a_bad_step_is_named(
    running_up: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    loaded = _cli(running_up, "marketing_ops", "nurture", "tracks", "load", EXAMPLE)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "awareness v1 active (draft -> active)" in loaded.stdout
    assert "not-now v1 active (draft -> active)" in loaded.stdout

    again = _cli(running_up, "marketing_ops", "nurture", "tracks", "load", EXAMPLE)
    assert again.stdout.count("(unchanged)") == 6, again.stdout

    edited = yaml.safe_load(Path(EXAMPLE).read_text())
    edited["tracks"][0]["priority"] = 11
    changed_file = tmp_path / "tracks.yaml"
    changed_file.write_text(yaml.safe_dump(edited))
    changed = _cli(running_up, "marketing_ops", "nurture", "tracks", "load", str(changed_file))
    assert "awareness v2 active (draft -> active)" in changed.stdout, changed.stdout

    listed = _cli(running_up, "sales_ops", "nurture", "tracks")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    awareness = next(line for line in listed.stdout.splitlines() if " awareness " in line)
    cells = [cell.strip() for cell in awareness.split("│")]
    assert cells[1:8] == ["awareness", "Awareness for new raw leads", "11", "v2", "v2", "active", "4"]

    # A bad step is refused, naming the track, the step and the field.
    edited = yaml.safe_load(Path(EXAMPLE).read_text())
    edited["tracks"][1]["steps"][1]["wait"]["calendar"] = "tokyo"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(edited))

    refused = _cli(running_up, "marketing_ops", "nurture", "tracks", "load", str(bad))

    assert refused.returncode == 1
    flat = " ".join(refused.stdout.split())
    assert "422 Invalid nurture track" in flat
    assert "track `awareness-economic-buyer`, step 2 (`tco-report`): `wait.calendar`: no calendar `tokyo`" in flat
