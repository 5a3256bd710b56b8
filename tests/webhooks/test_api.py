"""The webhooks admin API as an admin uses it: subscriptions, secrets shown once, the delivery log, re-sending."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from database import migrate
from database.engine import make_engine
from services.webhooks.models import WebhookDelivery
from tests.conftest import ApiClient
from tests.webhooks.support import accepted, publish, receiving, verify_by_hand

HOOK = "https://hooks.example.com/leadflow"
QUALIFIED = "leadflow.lead.qualified.v1"
ACCEPTED = "leadflow.handoff.accepted.v1"


def create(api: ApiClient, **body: Any) -> Any:
    return api.call(
        "POST", "/v1/webhooks/subscriptions", "admin", json={"url": HOOK, "event_types": [QUALIFIED], **body}
    )


def test_a_subscription_is_created_with_a_secret_shown_once_and_never_again(local_api: ApiClient, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    created = create(local_api, description="Mautic")

    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert (body["url"], body["event_types"], body["active"]) == (HOOK, [QUALIFIED], True)
    shown = local_api.call("GET", f"/v1/webhooks/subscriptions/{body['id']}", "admin")
    listed = local_api.call("GET", "/v1/webhooks/subscriptions", "admin")
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    assert all("secret" not in row for row in listed.json())
    assert secret not in shown.text + listed.text
    assert secret not in caplog.text


def test_rotating_gives_a_new_secret_once(local_api: ApiClient) -> None:
    created = create(local_api).json()

    rotated = local_api.call("POST", f"/v1/webhooks/subscriptions/{created['id']}/secret", "admin")

    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]


def test_an_unknown_event_type_is_refused_naming_it(local_api: ApiClient) -> None:
    response = create(local_api, event_types=[QUALIFIED, "leadflow.lead.teleported.v1"])

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "leadflow.lead.teleported.v1" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "event_types"


def test_an_incoming_event_type_is_not_deliverable(local_api: ApiClient) -> None:
    response = create(local_api, event_types=["leadflow.touch.recorded.v1"])

    assert response.status_code == 422
    assert "leadflow.touch.recorded.v1" in response.json()["detail"]


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "https://user:pw@example.com/"])
def test_only_http_and_https_urls_are_taken(local_api: ApiClient, url: str) -> None:
    response = create(local_api, url=url)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url"


def test_only_an_admin_manages_webhooks(local_api: ApiClient) -> None:
    assert create(local_api).status_code == 201
    refused = local_api.call("GET", "/v1/webhooks/subscriptions", "marketing_ops")
    assert refused.status_code == 403
    assert local_api.client.get("/v1/webhooks/subscriptions").status_code == 401


def test_patch_pauses_a_subscription_and_checks_what_it_changes(local_api: ApiClient) -> None:
    created = create(local_api).json()
    path = f"/v1/webhooks/subscriptions/{created['id']}"

    paused = local_api.call("PATCH", path, "admin", json={"active": False})
    bad = local_api.call("PATCH", path, "admin", json={"event_types": ["nope.v1"]})
    null = local_api.call("PATCH", path, "admin", json={"active": None})

    assert paused.status_code == 200
    assert paused.json()["active"] is False
    assert bad.status_code == 422
    assert "nope.v1" in bad.json()["detail"]
    assert null.status_code == 422
    assert local_api.call("PATCH", path.replace(created["id"][:8], "00000000"), "admin", json={}).status_code == 404


def test_the_delivery_log_pages_filters_and_a_dead_delivery_is_sent_again(local_api: ApiClient) -> None:
    created = create(local_api, event_types=[ACCEPTED]).json()
    engine = local_api.client.app.state.context.engine
    publish(engine, [accepted("acme.com"), accepted("acme.com"), accepted("globex.com")])
    path = f"/v1/webhooks/subscriptions/{created['id']}/deliveries"
    _wait_for(lambda: len(local_api.call("GET", path, "admin").json()["deliveries"]) == 3)
    # The app's dispatcher would send them to a host that does not exist: the log is about rows, so mark them.
    with engine.begin() as connection:
        connection.execute(update(WebhookDelivery).values(status="dead", last_response_code=410, attempts=1))

    first = local_api.call("GET", path, "admin", params={"limit": 2}).json()
    rest = local_api.call("GET", path, "admin", params={"limit": 2, "before": first["next_cursor"]}).json()
    dead = local_api.call("GET", path, "admin", params={"status": "dead"}).json()["deliveries"]
    resent = local_api.call("POST", f"{path}/{dead[0]['id']}/resend", "admin")
    again = local_api.call("POST", f"{path}/{dead[0]['id']}/resend", "admin")

    assert len(first["deliveries"]) == 2
    assert len(rest["deliveries"]) == 1
    assert rest["next_cursor"] is None
    assert {row["account_key"] for row in dead} == {"acme.com", "globex.com"}
    assert dead[0]["last_response_code"] == 410
    assert resent.status_code == 200
    assert (resent.json()["status"], resent.json()["attempts"]) == ("pending", 0)
    assert again.status_code == 409
    assert local_api.call("GET", path, "admin", params={"status": "lost"}).status_code == 422


def test_an_admin_subscribes_a_receiver_and_it_gets_the_event_signed_with_the_secret_it_was_shown(
    local_api: ApiClient,
) -> None:
    with receiving() as receiver:
        created = create(local_api, url=receiver.url, event_types=[ACCEPTED]).json()
        event = accepted("acme.com")
        publish(local_api.client.app.state.context.engine, [event])  # as handoff will, through the outbox

        _wait_for(lambda: len(receiver.accepted()) == 1)
        path = f"/v1/webhooks/subscriptions/{created['id']}/deliveries"
        _wait_for(lambda: local_api.call("GET", path, "admin").json()["deliveries"][0]["status"] == "delivered")

    [got] = receiver.accepted()
    assert got.webhook_id == str(event.id)
    assert verify_by_hand(created["secret"], got)
    [row] = local_api.call("GET", path, "admin").json()["deliveries"]
    assert (row["attempts"], row["last_response_code"], row["next_attempt_at"]) == (1, 200, None)


@pytest.fixture
def production_api(tmp_path: Path) -> Iterator[ApiClient]:
    """The webhooks service alone, as it runs outside local mode."""
    from fastapi.testclient import TestClient

    from kernel.settings import Settings
    from leadflow.app import create_app

    settings = Settings(
        environment="production", database_url=f"sqlite:///{tmp_path / 'prod.db'}", secret_key="a-real-secret"
    )
    migrate.upgrade(make_engine(settings.database_url))
    with TestClient(create_app(settings, ["webhooks"])) as client:
        yield ApiClient(client, "a-real-secret")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("https://10.0.0.7/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]/hook", "loopback"),
        ("https://192.168.1.20/hook", "private"),
    ],
)
def test_in_production_a_url_resolving_to_a_non_global_address_is_refused(
    production_api: ApiClient, url: str, reason: str
) -> None:
    response = create(production_api, url=url)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "url"
    assert reason in response.json()["detail"]


def test_in_production_a_global_address_is_taken_and_a_patch_is_checked_too(production_api: ApiClient) -> None:
    created = create(production_api, url="https://93.184.216.34/hook")
    assert created.status_code == 201, created.text

    moved = production_api.call(
        "PATCH", f"/v1/webhooks/subscriptions/{created.json()['id']}", "admin", json={"url": "http://127.0.0.1/"}
    )
    assert moved.status_code == 422
    assert "loopback" in moved.json()["detail"]


def _wait_for(condition: Any, timeout_s: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
