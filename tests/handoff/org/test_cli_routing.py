"""`leadflow routing import|validate|show` against `leadflow up` in its own process, as a sales ops user runs them."""

# ruff: noqa: F811 - the tests take tests.test_cli's `running_up` fixture, imported here, as their argument

from __future__ import annotations

from pathlib import Path

import yaml

from tests.test_cli import _cli, running_up  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = str(ROOT / "config" / "routing.example.yaml")


def test_import_saves_a_version_and_show_prints_teams_reps_and_rules(running_up: str, tmp_path: Path) -> None:
    imported = _cli(running_up, "sales_ops", "routing", "import", EXAMPLE)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "saved version 1" in imported.stdout
    assert "initial configuration: 3 teams, 16 reps, 6 rules, 4 calendars" in imported.stdout

    again = _cli(running_up, "sales_ops", "routing", "import", EXAMPLE)
    assert "version 1 is already this document: nothing saved" in again.stdout

    edited = yaml.safe_load(Path(EXAMPLE).read_text())
    edited["reps"][2]["weight"] = 2
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(edited))
    stale = _cli(running_up, "sales_ops", "routing", "import", str(tmp_path / "edited.yaml"), "--if-match", "0")
    assert stale.returncode == 1
    assert "412" in stale.stdout
    second = _cli(running_up, "sales_ops", "routing", "import", str(tmp_path / "edited.yaml"), "--if-match", "1")
    assert second.returncode == 0, second.stdout
    assert "saved version 2" in second.stdout
    assert "rep lea.schmidt@acme-analytics.example weight 1.0 -> 2.0" in second.stdout

    shown = _cli(running_up, "manager", "routing", "show")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "routing version 2" in shown.stdout
    for expected in ("emea_enterprise", "katrin.vogel@acme-analytics.example", "inactive", "away 2026-07-27"):
        assert expected in shown.stdout
    assert "EMEA financial services to the FSI specialist" in shown.stdout
    assert "rep olivia.hughes@acme-analytics.example" in shown.stdout
    assert "pool smb_inbound" in shown.stdout


def test_a_bad_file_or_a_manager_saves_nothing_and_problems_print_by_field(running_up: str, tmp_path: Path) -> None:
    document = yaml.safe_load(Path(EXAMPLE).read_text())
    document["rules"][0]["target"]["rep"] = "nobody@acme-analytics.example"
    document["reps"][1]["calendar"] = "tokyo"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(document))

    validated = _cli(running_up, "sales_ops", "routing", "validate", str(tmp_path / "bad.yaml"))
    imported = _cli(running_up, "sales_ops", "routing", "import", str(tmp_path / "bad.yaml"))

    for result in (validated, imported):
        assert result.returncode == 1
        text = " ".join(result.stdout.split())
        assert "reps.1.calendar: rep jonas.becker@acme-analytics.example: calendar: unknown calendar 'tokyo'" in text
        assert (
            "rules.0.target.rep: rule 1 (EMEA financial services to the FSI specialist): target.rep: "
            "unknown rep nobody@acme-analytics.example"
        ) in text
    refused = _cli(running_up, "manager", "routing", "import", EXAMPLE)
    assert refused.returncode == 1
    assert "403" in refused.stdout
    shown = _cli(running_up, "manager", "routing", "show")
    assert shown.returncode == 1
    assert "404" in shown.stdout  # nothing was saved
