"""The CLI from anywhere: drafts deleted, ids printed whole on narrow terminals, and outside the repository no
command reads data without a token or creates a database; each refusal is one line saying what to set."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.test_cli import LEADFLOW, ROOT, _cli, running_up  # noqa: F401 - the fixture is used by name

EXAMPLE = str(ROOT / "config/lead_definition.example.yaml")


def _outside(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in an empty folder, with no leadflow setting but `env`."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("LEADFLOW_")}
    return subprocess.run(
        [LEADFLOW, *args], cwd=tmp_path, env={**clean, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def test_outside_the_repository_each_refusal_is_one_line_and_no_database_appears(tmp_path: Path) -> None:
    no_token = _outside(tmp_path, "definition", "list")
    no_api = _outside(tmp_path, "definition", "list", LEADFLOW_TOKEN="t", LEADFLOW_API_URL="http://127.0.0.1:9")
    no_database = _outside(tmp_path, "db", "current")
    bad_settings = _outside(
        tmp_path, "token", "issue", "--subject", "x", "--role", "admin", LEADFLOW_ENVIRONMENT="production"
    )

    for refused, says in (
        (no_token, "set LEADFLOW_TOKEN"),
        (no_api, "set LEADFLOW_API_URL"),
        (no_database, "set LEADFLOW_DATABASE_URL"),
        (bad_settings, "LEADFLOW_SECRET_KEY must be set"),
    ):
        output = (refused.stdout + refused.stderr).strip()
        assert refused.returncode == 2, output
        assert says in output
        assert len(output.splitlines()) == 1, output
    assert list(tmp_path.iterdir()) == []  # no leadflow.db made in passing


def test_operator_commands_say_in_their_help_that_they_need_the_database(tmp_path: Path) -> None:
    for command in (["db", "upgrade"], ["db", "current"], ["db", "downgrade"], ["run"], ["relay"]):
        helped = _outside(tmp_path, *command, "--help", COLUMNS="200")
        assert "For operators" in helped.stdout, command
        assert "LEADFLOW_DATABASE_URL" in helped.stdout, command


def test_a_draft_is_deleted_and_ids_are_printed_whole_on_a_narrow_terminal(running_up: str) -> None:  # noqa: F811
    drafted = _cli(running_up, "marketing_ops", "definition", "draft", EXAMPLE)
    definition_id = re.search(r"id=([0-9a-f-]{36})", "".join(drafted.stdout.split()))[1]  # type: ignore[index]

    narrow = subprocess.run(
        [LEADFLOW, "definition", "list"],
        env={**os.environ, "LEADFLOW_API_URL": running_up, "COLUMNS": "60", "LEADFLOW_TOKEN": _token("manager")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert definition_id in narrow.stdout, narrow.stdout

    deleted = _cli(running_up, "marketing_ops", "definition", "delete", definition_id)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    gone = _cli(running_up, "manager", "definition", "show", definition_id)
    assert gone.returncode == 1
    assert "404" in gone.stdout


def _token(role: str) -> str:
    from auth.tokens import issue_token
    from tests.test_cli import SECRET

    return issue_token(SECRET, f"cli-{role}", role)
