"""`leadflow nurture tracks load FILE`, `tracks`, `enrollments` and `stats` against `leadflow up`."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import yaml

from auth.tokens import issue_token
from tests.lead_scoring.test_journey_local import DANA, IDENTIFY
from tests.test_cli import SECRET, _cli, running_up  # noqa: F401 - the fixture that starts `leadflow up`

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


def test_a_raw_lead_s_enrollment_and_the_track_figures_show_in_tables(running_up: str) -> None:  # noqa: F811
    assert _cli(running_up, "marketing_ops", "nurture", "tracks", "load", EXAMPLE).returncode == 0
    drafted = _cli(
        running_up, "marketing_ops", "definition", "draft", str(ROOT / "config/lead_definition.example.yaml")
    )
    definition_id = re.search(r"id=([0-9a-f-]{36})", drafted.stdout)[1]  # type: ignore[index]
    for role in ("marketing_ops", "sales_ops"):
        _cli(running_up, role, "definition", "approve", definition_id, "--revision", "1")
    assert _cli(running_up, "sales_ops", "definition", "publish", definition_id).returncode == 0
    automation = {"Authorization": f"Bearer {issue_token(SECRET, 'mautic', 'marketing_automation')}"}
    assert httpx.post(f"{running_up}/v1/touches", json=IDENTIFY, headers=automation).status_code == 202
    ops = {"Authorization": f"Bearer {issue_token(SECRET, 'ops', 'marketing_ops')}"}
    deadline = time.monotonic() + 30
    while not httpx.get(f"{running_up}/v1/nurture/enrollments?lead_id={DANA}", headers=ops).json()["items"]:
        assert time.monotonic() < deadline, "Dana was never enrolled"
        time.sleep(0.2)

    by_email = _cli(running_up, "sales_ops", "nurture", "enrollments", "--email", "dana.whitfield@acme-robotics.com")
    by_id = _cli(running_up, "manager", "nurture", "enrollments", "--lead-id", str(DANA))

    assert by_email.returncode == 0, by_email.stdout + by_email.stderr
    row = next(line for line in by_email.stdout.splitlines() if "awareness v1" in line)
    cells = [cell.strip() for cell in row.split("│")]
    assert cells[2:5] == ["active", "2026-11-02 09:00 UTC", "new_raw_lead"]
    assert re.fullmatch(r"\d+ [a-z-]+ \(action\)", cells[6]), cells
    assert cells[7].endswith(" UTC"), cells
    assert by_id.stdout == by_email.stdout
    neither = _cli(running_up, "sales_ops", "nurture", "enrollments")
    assert neither.returncode == 2
    assert "give exactly one of --lead-id and --email" in " ".join(neither.stderr.split())

    stats = _cli(running_up, "manager", "nurture", "stats", "awareness")
    assert stats.returncode == 0, stats.stdout + stats.stderr
    [figures] = [line for line in stats.stdout.splitlines() if line.startswith("│")][:1]
    assert [cell.strip() for cell in figures.split("│")][1:4] == ["1", "1", "-"]
    assert "awareness: steps" in stats.stdout
    unknown = _cli(running_up, "manager", "nurture", "stats", "no-such-track")
    assert (unknown.returncode, "404" in unknown.stdout) == (1, True)
