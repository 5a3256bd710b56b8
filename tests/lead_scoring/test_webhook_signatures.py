"""With a secret configured, Mautic's Webhook-Signature and HubSpot's X-HubSpot-Signature-v3 are verified:
a missing, wrong or stale signature is 401 problem+json naming the header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from database import migrate
from database.engine import make_engine
from events.envelope import utc_now
from kernel.settings import Settings
from leadflow.app import create_app
from tests.conftest import ApiClient
from tests.lead_scoring.test_adapters import sample

MAUTIC_SECRET, HUBSPOT_SECRET = "mautic-shared-secret", "hubspot-client-secret"
URL = "http://testserver/v1/touches"


@pytest.fixture
def signed_api(tmp_path: Path) -> Iterator[ApiClient]:
    """leadflow as `leadflow up` runs it, with both webhook secrets set."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'up.db'}",
        secret_key="test-secret",
        mautic_webhook_secret=MAUTIC_SECRET,
        hubspot_client_secret=HUBSPOT_SECRET,
    )
    migrate.upgrade(make_engine(settings.database_url))
    with TestClient(create_app(settings)) as client:
        yield ApiClient(client, settings.secret_key.get_secret_value())


def _sign(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def _post(api: ApiClient, raw: bytes, **headers: str):
    return api.client.post(
        "/v1/touches",
        content=raw,
        headers={**api.as_("marketing_automation"), "content-type": "application/json", **headers},
    )


def test_a_mautic_webhook_signed_with_the_secret_is_accepted_and_a_wrong_or_missing_signature_is_401(
    signed_api,
) -> None:
    raw = json.dumps(sample("mautic_form_submit.json")).encode()

    assert _post(signed_api, raw, **{"Webhook-Signature": _sign(MAUTIC_SECRET, raw)}).status_code == 202
    wrong = _post(signed_api, raw, **{"Webhook-Signature": _sign("another secret", raw)})
    missing = _post(signed_api, raw)

    for refused in (wrong, missing):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["field"] == "Webhook-Signature"
    assert "does not match the body" in wrong.json()["detail"]
    assert "is missing" in missing.json()["detail"]


def _hubspot_headers(raw: bytes, *, age: timedelta = timedelta(0), secret: str = HUBSPOT_SECRET) -> dict[str, str]:
    stamp = str(int((utc_now() - age).timestamp() * 1000))
    signature = _sign(secret, b"POST" + URL.encode() + raw + stamp.encode())
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}


def test_a_hubspot_delivery_signed_v3_is_accepted_and_a_bad_missing_or_stale_one_is_401(signed_api) -> None:
    raw = json.dumps(sample("hubspot_webhook.json")).encode()

    accepted = _post(signed_api, raw, **_hubspot_headers(raw))
    bad = _post(signed_api, raw, **_hubspot_headers(raw, secret="not the secret"))
    missing = _post(signed_api, raw)
    stale = _post(signed_api, raw, **_hubspot_headers(raw, age=timedelta(minutes=6)))

    assert accepted.status_code == 202, accepted.text
    assert [r.status_code for r in (bad, missing, stale)] == [401, 401, 401]
    assert bad.json()["errors"][0]["field"] == "X-HubSpot-Signature-v3"
    assert missing.json()["errors"][0]["field"] == "X-HubSpot-Signature-v3"
    assert stale.json()["errors"][0]["field"] == "X-HubSpot-Request-Timestamp"
    assert "older than 5 minutes" in stale.json()["detail"]


def test_without_secrets_the_samples_of_every_source_are_accepted(local_api) -> None:
    for name in ("hubspot_webhook.json", "hubspot_form_submission.json", "marketo_activities.json"):
        answer = local_api.call("POST", "/v1/touches", "marketing_automation", json=sample(name))
        assert answer.status_code == 202, (name, answer.text)
        assert answer.json()["rejected"] == []
