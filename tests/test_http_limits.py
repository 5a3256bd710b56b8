"""HTTP limits and answers: what a request may send, and a problem+json for everything it may not."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from auth.tokens import issue_token
from database import migrate
from database.engine import make_engine
from kernel.http_limits import MAX_BATCH_ITEMS, MAX_BODY_BYTES, MAX_JSON_DEPTH, LimitedRoute, exceeds_depth
from kernel.problems import MEDIA_TYPE
from kernel.settings import Settings
from leadflow.app import create_app

SECRET = "http-test-secret"
INGEST_TYPES = ("application/json", "application/cloudevents+json", "application/cloudevents-batch+json")


def bearer(role: str) -> dict[str, str]:
    """Authorization headers for `role`."""
    return {"Authorization": f"Bearer {issue_token(SECRET, f'test-{role}', role)}"}


AUTOMATION = bearer("marketing_automation")


def segment_track(n: int) -> dict[str, Any]:
    """A compact Segment track call of contact `n`."""
    return {
        "type": "track",
        "messageId": f"m-{n}",
        "userId": f"u-{n}",
        "event": "Page Viewed",
        "timestamp": "2026-11-02T09:00:00Z",
        "context": {"traits": {"email": f"person{n}@account{n % 97}.example"}},
    }


def local_app(tmp_path: Path) -> FastAPI:
    """The app `leadflow up` serves, on a fresh SQLite file."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'up.db'}", secret_key=SECRET)
    migrate.upgrade(make_engine(settings.database_url))
    return create_app(settings)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A test client of the app; server errors come back as answers, as a real client would see them."""
    with TestClient(local_app(tmp_path), raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Served:
    """The app behind a real uvicorn server on a free port."""

    url: str
    port: int
    app: FastAPI


@contextmanager
def serve(app: FastAPI) -> Iterator[Served]:
    """`app` served by uvicorn in a thread: for what only a real socket shows (streaming, concurrency)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", port, app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The app `leadflow up` serves, behind uvicorn on a free port."""
    with serve(local_app(tmp_path)) as running:
        yield running


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem document of a `status` answer."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


def nested(depth: int) -> bytes:
    """Arrays nested `depth` deep."""
    return b"[" * depth + b"]" * depth


def test_a_2_mb_ingest_body_gets_413_naming_the_limit(client: TestClient) -> None:
    body = json.dumps({"batch": [segment_track(n) for n in range(12_000)]}).encode()
    assert len(body) > 2_000_000

    response = client.post("/v1/touches", content=body, headers={**AUTOMATION, "content-type": "application/json"})

    problem = assert_problem(response, 413)
    assert problem["max_bytes"] == MAX_BODY_BYTES
    assert str(MAX_BODY_BYTES) in problem["detail"]


def test_a_declared_100_mb_body_is_refused_before_any_of_it_is_sent(served: Served) -> None:
    head = (
        "POST /v1/touches HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Authorization: {AUTOMATION['Authorization']}\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as connection:
        connection.sendall(head.encode() + b'{"batch": [')  # and not one byte more
        answer = connection.recv(65536).decode()

    assert answer.startswith("HTTP/1.1 413"), answer
    assert MEDIA_TYPE in answer


def test_a_chunked_body_is_refused_once_it_streams_past_the_limit(served: Served) -> None:
    sent = 0

    def hundred_megabytes() -> Iterator[bytes]:
        nonlocal sent
        chunk = b" " * 65536
        for _ in range(1600):
            sent += len(chunk)
            yield chunk

    try:
        response = httpx.post(
            f"{served.url}/v1/touches",
            content=hundred_megabytes(),
            headers={**AUTOMATION, "content-type": "application/json"},
            timeout=60,
        )
    except httpx.TransportError:  # the server may close the connection while the client is still writing
        response = None

    print(f"client sent {sent} bytes; answer: {response.status_code if response else 'connection closed'}")
    assert sent < 20 * 1024 * 1024, f"the server read {sent} bytes before refusing"
    if response is not None:
        assert_problem(response, 413)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", {"batch": [segment_track(n) for n in range(MAX_BATCH_ITEMS + 1)]}),
        ("application/cloudevents-batch+json", [{}] * (MAX_BATCH_ITEMS + 1)),
        ("application/json", {"mautic.page_on_hit": [{}] * MAX_BATCH_ITEMS, "mautic.email_on_open": [{}]}),
    ],
    ids=["segment-batch", "cloudevents-batch", "mautic-webhook"],
)
def test_a_batch_of_more_than_5000_items_gets_413_naming_the_limit(
    client: TestClient, content_type: str, body: Any
) -> None:
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) < MAX_BODY_BYTES

    response = client.post("/v1/touches", content=raw, headers={**AUTOMATION, "content-type": content_type})

    problem = assert_problem(response, 413)
    assert problem["max_items"] == MAX_BATCH_ITEMS
    assert "5001 items" in problem["detail"]


@pytest.mark.parametrize("path", ["/v1/touches", "/v1/definitions"])
def test_json_nested_5000_deep_gets_400_not_a_server_error(client: TestClient, path: str) -> None:
    headers = {**bearer("admin"), "content-type": "application/json"}

    problem = assert_problem(client.post(path, content=nested(5000), headers=headers), 400)

    assert problem["max_depth"] == MAX_JSON_DEPTH
    assert "deeper than 32" in problem["detail"]


def test_json_at_the_depth_limit_passes_and_one_deeper_does_not(client: TestClient) -> None:
    headers = {**AUTOMATION, "content-type": "application/json"}

    at_limit = client.post("/v1/touches", content=nested(MAX_JSON_DEPTH), headers=headers)
    deeper = client.post("/v1/touches", content=nested(MAX_JSON_DEPTH + 1), headers=headers)

    assert assert_problem(at_limit, 422)["title"] == "Nothing accepted"  # past the checks, to the adapters
    assert assert_problem(deeper, 400)["title"] == "JSON too deep"


def test_exceeds_depth_counts_objects_and_arrays_but_not_scalars() -> None:
    assert not exceeds_depth("scalar", 0)
    assert exceeds_depth({}, 0)
    assert not exceeds_depth({"a": [1, {"b": "c"}]}, 3)
    assert exceeds_depth({"a": [1, {"b": []}]}, 3)


@pytest.mark.parametrize(
    "raw",
    [b"{", b"\xff\xfe{", b"1" * 5000, b'{"a": 1} trailing'],
    ids=["truncated", "not-utf8", "huge-int", "trailing"],
)
def test_malformed_json_gets_400_saying_why(client: TestClient, raw: bytes) -> None:
    response = client.post("/v1/touches", content=raw, headers={**AUTOMATION, "content-type": "application/json"})

    assert assert_problem(response, 400)["detail"].startswith("body: not JSON")


def test_a_content_type_a_route_does_not_take_gets_415_listing_those_it_does(client: TestClient) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post("/v1/touches", content=b"{}", headers={**AUTOMATION, "content-type": content_type})
        problem = assert_problem(response, 415)
        assert problem["accepted"] == list(INGEST_TYPES)
        assert content_type in problem["detail"]
    without = client.post("/v1/touches", content=b"{}", headers=AUTOMATION)
    assert "(none)" in assert_problem(without, 415)["detail"]
    # A CloudEvents type is right for ingest and wrong for a route that takes plain JSON.
    draft = client.post(
        "/v1/definitions",
        content=b'{"document": {}}',
        headers={**bearer("marketing_ops"), "content-type": "application/cloudevents+json"},
    )
    assert assert_problem(draft, 415)["accepted"] == ["application/json"]


@pytest.mark.parametrize("content_type", INGEST_TYPES)
def test_ingest_takes_each_of_its_content_types(client: TestClient, content_type: str) -> None:
    event = {
        "specversion": "1.0",
        "id": "2f1c4a3e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
        "source": "test",
        "type": "leadflow.touch.recorded.v1",
        "time": "2026-11-02T09:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "touch_id": "7d9e1f20-3a4b-4c5d-8e6f-708192a3b4c5",
            "contact": {"email": "dana@acme-robotics.com"},
            "touch_type": "page_view",
            "channel": "web",
            "source_system": "test",
        },
    }
    body: Any = [event] if content_type.endswith("batch+json") else event

    response = client.post("/v1/touches", json=body, headers={**AUTOMATION, "content-type": content_type})

    assert response.status_code == 202, response.text


def test_a_huge_version_on_rollback_gets_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/v1/definitions/rollback", json={"version": 10**30}, headers=bearer("sales_ops"))

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "version"


def test_an_unexpected_error_is_a_logged_500_problem_that_leaks_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = local_app(tmp_path)

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as test_client, caplog.at_level(logging.ERROR):
        response = test_client.get("/v1/boom")

    problem = assert_problem(response, 500)
    assert "secret internals" not in response.text
    assert problem["instance"] == "/v1/boom"
    assert any(record.exc_info and "secret internals" in str(record.exc_info[1]) for record in caplog.records)


def test_a_token_that_is_not_ascii_gets_401_not_a_server_error(client: TestClient) -> None:
    response = client.get("/v1/definitions", headers={"Authorization": "Bearer lf1.\xe9.\xe9".encode("latin-1")})

    problem = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert problem["detail"] == "malformed token"


def test_every_route_checks_its_limits_and_documents_problem_json_for_every_error(tmp_path: Path) -> None:
    app = local_app(tmp_path)
    routes = [route for route in app.routes if isinstance(route, APIRoute)]
    assert routes
    assert all(isinstance(route, LimitedRoute) for route in routes)

    document = app.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            statuses = set(operation["responses"])
            assert "500" in statuses, where
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert answer["content"] == {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            if operation.get("security"):
                assert {"401", "403"} <= statuses, where
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= statuses, where
            if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
                assert {"404", "422"} <= statuses, where
    assert set(document["paths"]["/v1/touches"]["post"]["requestBody"]["content"]) == set(INGEST_TYPES)
    assert document["components"]["schemas"]["Problem"]["required"] == ["title", "status", "detail", "instance"]


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01T00:00:00+23:59", "2026-01-01T00:00:00Z"), ("2026-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59")],
    ids=["start-before-year-1-in-utc", "end-after-year-9999-in-utc"],
)
def test_a_simulation_window_out_of_range_in_utc_gets_422_naming_the_field(
    client: TestClient, start: str, end: str
) -> None:
    draft_id = "00000000-0000-4000-8000-000000000000"  # the body is refused before any lookup

    response = client.post(
        f"/v1/definitions/{draft_id}/simulate", json={"start": start, "end": end}, headers=bearer("manager")
    )

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == ("start" if start.startswith("0001") else "end")
