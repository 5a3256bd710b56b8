"""schemathesis over the whole OpenAPI document of `leadflow up`, with a token of each role and with none:
no 5xx, no status code the document does not declare, no content type it does not declare.

Bounded for CI: LEADFLOW_FUZZ_EXAMPLES (default 25) valid requests per operation and role, derandomized, and as
many invalid ones as admin; `make fuzz-http` runs ten times as many.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from auth.tokens import ROLES, issue_token

LEADFLOW = str(Path(sys.executable).parent / "leadflow")
SECRET = "fuzz-secret"
EXAMPLES = int(os.environ.get("LEADFLOW_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ANONYMOUS = "anonymous"


@dataclass
class Up:
    """A running `leadflow up` and where its log goes."""

    url: str
    log: Path


@pytest.fixture(scope="module")
def leadflow_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """`leadflow up` in its own process on a fresh SQLite file, as a new user starts it."""
    directory = tmp_path_factory.mktemp("fuzz")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{directory / 'up.db'}", "LEADFLOW_SECRET_KEY": SECRET}
    log = directory / "up.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [LEADFLOW, "up", "--port", str(port)], cwd=directory, env=env, stdout=output, stderr=output
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while not _answers(url):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "leadflow up did not answer /health"
            time.sleep(0.1)
        yield Up(url, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _fuzz(strategy: SearchStrategy[Case[Any]], headers: dict[str, str], sent: Counter[str]) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case: Case[Any]) -> None:
        response = case.call(headers=headers, timeout=60)
        sent[str(response.status_code)] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    call()


def _modes(role: str) -> tuple[GenerationMode, ...]:
    # Invalid requests are refused by the token check before anything else looks at them, so they explore the
    # routes only with a token that may call every route.
    return (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if role == "admin" else (GenerationMode.POSITIVE,)


@pytest.mark.timeout(1800)  # `make fuzz-http` sends ten times as many
@pytest.mark.parametrize("role", [*ROLES, ANONYMOUS])
def test_no_server_error_and_only_documented_answers_for_each_role(
    leadflow_up: Up, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = schemathesis.openapi.from_url(f"{leadflow_up.url}/openapi.json")
    headers = {} if role == ANONYMOUS else {"Authorization": f"Bearer {issue_token(SECRET, f'fuzz-{role}', role)}"}
    sent: Counter[str] = Counter()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"the OpenAPI document has an operation schemathesis cannot read: {result.err()}")
            continue
        operation = result.ok()
        operations += 1
        for mode in _modes(role):
            try:
                _fuzz(operation.as_strategy(generation_mode=mode), headers, sent)
            except Unsatisfiable:  # nothing about the operation can be invalid, e.g. GET /health
                continue
            except (Exception, BaseExceptionGroup) as failure:  # a check's failures come as a group
                notes = "".join(getattr(failure, "__notes__", []))
                failures.append(f"{operation.label} ({mode.value}): {failure!r}\n{notes}")

    with capsys.disabled():
        answers = ", ".join(f"{status}: {count}" for status, count in sorted(sent.items()))
        print(f"\n  schemathesis as {role}: {sum(sent.values())} requests over {operations} operations ({answers})")
    server_log = leadflow_up.log.read_text()[-4000:]
    assert not failures, "\n\n".join(failures) + f"\n\nserver log (end):\n{server_log}"
