"""`leadflow up` as a new user starts it, and the `leadflow definition` commands against it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from auth.tokens import issue_token
from tests.lead_scoring.test_journey_local import DANA, DEMO_REQUEST, IDENTIFY

ROOT = Path(__file__).resolve().parent.parent
LEADFLOW = str(Path(sys.executable).parent / "leadflow")
SECRET = "cli-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def running_up(tmp_path: Path) -> Iterator[str]:
    """`leadflow up` in its own process, on a fresh SQLite file; yields its URL."""
    port = _free_port()
    os.environ["LEADFLOW_TEST_UP_DATABASE_URL"] = database_url = f"sqlite:///{tmp_path / 'up.db'}"
    env = {**os.environ, "LEADFLOW_DATABASE_URL": database_url, "LEADFLOW_SECRET_KEY": SECRET}
    process = subprocess.Popen(
        [LEADFLOW, "up", "--port", str(port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else "exited"
            assert time.monotonic() - started < 60, "leadflow up did not answer /health"
            time.sleep(0.1)
        print(f"leadflow up answered /health after {time.monotonic() - started:.1f}s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _cli(url: str, role: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LEADFLOW_API_URL": url,
        "LEADFLOW_TOKEN": issue_token(SECRET, f"cli-{role}", role),
        "LEADFLOW_DATABASE_URL": os.environ["LEADFLOW_TEST_UP_DATABASE_URL"],
        "COLUMNS": "200",
    }
    return subprocess.run([LEADFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_leadflow_up_serves_health_ready_metrics_and_docs(running_up: str) -> None:
    assert httpx.get(f"{running_up}/ready").json() == {"status": "ready"}
    assert "leadflow_events_handled_total" in httpx.get(f"{running_up}/metrics").text
    assert httpx.get(f"{running_up}/openapi.json").json()["info"]["title"] == "leadflow"
    unauthorised = httpx.get(f"{running_up}/v1/definitions")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["content-type"] == "application/problem+json"


def test_definition_commands_draft_approve_publish_and_follow_the_rescore(running_up: str) -> None:
    example = str(ROOT / "config/lead_definition.example.yaml")
    drafted = _cli(running_up, "marketing_ops", "definition", "draft", example)
    assert drafted.returncode == 0, drafted.stdout + drafted.stderr
    definition_id = re.search(r"id=([0-9a-f-]{36})", drafted.stdout)[1]  # type: ignore[index]

    refused = _cli(running_up, "sales_ops", "definition", "publish", definition_id)
    assert refused.returncode == 1
    assert "409" in refused.stdout
    assert "marketing (marketing_ops), sales (sales_ops)" in " ".join(refused.stdout.split())

    for role in ("marketing_ops", "sales_ops"):
        approved = _cli(running_up, role, "definition", "approve", definition_id, "--revision", "1")
        assert approved.returncode == 0, approved.stdout
    published = _cli(running_up, "sales_ops", "definition", "publish", definition_id, "--note", "first agreement")
    assert published.returncode == 0, published.stdout
    assert "rescoring done" in published.stdout

    listed = _cli(running_up, "manager", "definition", "list")
    assert "published" in listed.stdout


def test_simulate_shows_what_a_stricter_draft_would_drop(running_up: str, tmp_path: Path) -> None:
    example = ROOT / "config/lead_definition.example.yaml"
    drafted = _cli(running_up, "marketing_ops", "definition", "draft", str(example))
    first = re.search(r"id=([0-9a-f-]{36})", drafted.stdout)[1]  # type: ignore[index]
    for role in ("marketing_ops", "sales_ops"):
        _cli(running_up, role, "definition", "approve", first, "--revision", "1")
    assert _cli(running_up, "sales_ops", "definition", "publish", first).returncode == 0
    automation = {"Authorization": f"Bearer {issue_token(SECRET, 'mautic', 'marketing_automation')}"}
    for call in (IDENTIFY, DEMO_REQUEST):
        assert httpx.post(f"{running_up}/v1/touches", json=call, headers=automation).status_code == 202
    sales = {"Authorization": f"Bearer {issue_token(SECRET, 'sops', 'sales_ops')}"}
    deadline = time.monotonic() + 30
    while httpx.get(f"{running_up}/v1/leads/{DANA}", headers=sales).json().get("stage") != "mql":
        assert time.monotonic() < deadline, "Dana never qualified"
        time.sleep(0.2)
    stricter = yaml.safe_load(example.read_text())
    stricter["hand_raisers"] = []  # no fast lane: a demo request alone is not enough
    (tmp_path / "stricter.yaml").write_text(yaml.safe_dump(stricter))
    drafted = _cli(running_up, "marketing_ops", "definition", "draft", str(tmp_path / "stricter.yaml"))
    draft = re.search(r"id=([0-9a-f-]{36})", drafted.stdout)[1]  # type: ignore[index]

    simulated = _cli(
        running_up,
        "marketing_ops",
        "definition",
        "simulate",
        draft,
        "--from",
        "2026-11-01T00:00:00",
        "--to",
        "2026-11-03T00:00:00",
        "--workers",
        "1",
    )

    assert simulated.returncode == 0, simulated.stdout + simulated.stderr
    assert "newly qualified under the draft: 0; dropped: 1" in simulated.stdout
    assert "2026-W45" in simulated.stdout


def test_fields_lists_a_custom_trait_at_contact_name_and_validate_suggests_it_for_contact_custom(
    running_up: str, tmp_path: Path
) -> None:
    automation = {"Authorization": f"Bearer {issue_token(SECRET, 'segment', 'marketing_automation')}"}
    identify = {**IDENTIFY, "traits": {**IDENTIFY["traits"], "occupation": "Engineer"}}
    assert httpx.post(f"{running_up}/v1/touches", json=identify, headers=automation).status_code == 202
    deadline = time.monotonic() + 30
    while "contact.occupation" not in (listed := _cli(running_up, "manager", "definition", "fields")).stdout:
        assert time.monotonic() < deadline, listed.stdout + listed.stderr
        time.sleep(0.2)
    assert re.search(r"contact\.occupation\s+.*custom\s+.*A custom field of the sending system", listed.stdout)
    document = yaml.safe_load((ROOT / "config/lead_definition.example.yaml").read_text())
    document["fit"]["rules"].append(
        {"id": "fit.engineer", "when": {"field": "contact.custom.occupation", "eq": "Engineer"}, "points": 5}
    )
    (tmp_path / "custom.yaml").write_text(yaml.safe_dump(document))

    checked = _cli(running_up, "marketing_ops", "definition", "validate", str(tmp_path / "custom.yaml"))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "(`fit.engineer`): field path `contact.custom.occupation` has never been seen" in checked.stdout
    assert "closest known: `contact.occupation`" in checked.stdout
