"""The pure webhook decisions: what an answer means, the retry schedule, which delivery goes next, safe URLs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.webhooks.domain import (
    GIVE_UP_AFTER,
    Attempt,
    Candidate,
    address_problem,
    after_attempt,
    backoff,
    choose,
    classify,
    format_secret,
    retry_after,
    signing_secrets,
    url_problem,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempt", "verdict"),
    [
        (Attempt(200), "delivered"),
        (Attempt(204), "delivered"),
        (Attempt(None, "no answer within 10 s"), "retry"),
        (Attempt(408), "retry"),
        (Attempt(429), "retry"),
        (Attempt(500), "retry"),
        (Attempt(503), "retry"),
        (Attempt(400), "dead"),
        (Attempt(401), "dead"),
        (Attempt(404), "dead"),
        (Attempt(410), "dead"),
        (Attempt(301), "dead"),
        (Attempt(None, "refused: 10.0.0.1 is a private address", refused=True), "dead"),
    ],
)
def test_each_answer_is_delivered_retried_or_dead(attempt: Attempt, verdict: str) -> None:
    assert classify(attempt) == verdict


def test_the_backoff_starts_at_5_seconds_doubles_and_is_capped_at_an_hour() -> None:
    ceilings = [backoff(n, 1.0).total_seconds() for n in range(1, 14)]

    assert ceilings[:5] == [5, 10, 20, 40, 80]
    assert ceilings[-1] == 3600
    assert max(ceilings) == 3600
    assert backoff(1000, 1.0) == timedelta(hours=1)


@given(attempts=st.integers(1, 200), jitter=st.floats(0, 1, exclude_max=True))
def test_full_jitter_waits_anywhere_between_nothing_and_the_ceiling(attempts: int, jitter: float) -> None:
    delay = backoff(attempts, jitter)
    assert timedelta(0) <= delay <= backoff(attempts, 1.0)


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert retry_after("120", NOW) == timedelta(seconds=120)
    assert retry_after("Mon, 02 Nov 2026 09:05:00 GMT", NOW) == timedelta(minutes=5)
    assert retry_after("Mon, 02 Nov 2026 08:00:00 GMT", NOW) == timedelta(0)
    assert retry_after("soon", NOW) is None
    assert retry_after(None, NOW) is None


def test_a_429_waits_as_long_as_retry_after_asks() -> None:
    result = after_attempt(attempts=1, first_attempt_at=NOW, attempt=Attempt(429, retry_after="30"), now=NOW, jitter=0)

    assert (result.status, result.next_attempt_at, result.last_response_code) == (
        "pending",
        NOW + timedelta(seconds=30),
        429,
    )


def test_a_5xx_is_retried_after_the_jittered_backoff() -> None:
    result = after_attempt(attempts=3, first_attempt_at=NOW, attempt=Attempt(503, "HTTP 503"), now=NOW, jitter=0.5)

    assert result.status == "pending"
    assert result.next_attempt_at == NOW + timedelta(seconds=10)
    assert result.last_error == "HTTP 503"


def test_a_410_is_dead_at_once_and_keeps_the_answer() -> None:
    result = after_attempt(
        attempts=1, first_attempt_at=NOW, attempt=Attempt(410, "HTTP 410: gone"), now=NOW, jitter=0.5
    )

    assert (result.status, result.next_attempt_at, result.last_response_code) == ("dead", None, 410)
    assert result.last_error == "HTTP 410: gone"


def test_retries_stop_24_hours_after_the_first_attempt_with_a_last_try_at_the_deadline() -> None:
    late = NOW + GIVE_UP_AFTER - timedelta(minutes=10)
    last = after_attempt(attempts=40, first_attempt_at=NOW, attempt=Attempt(500, "HTTP 500"), now=late, jitter=1.0)
    assert (last.status, last.next_attempt_at) == ("pending", NOW + GIVE_UP_AFTER)

    dead = after_attempt(
        attempts=41, first_attempt_at=NOW, attempt=Attempt(500, "HTTP 500"), now=NOW + GIVE_UP_AFTER, jitter=1.0
    )
    assert (dead.status, dead.last_response_code) == ("dead", 500)
    assert dead.last_error is not None
    assert dead.last_error.startswith("gave up after 41 attempts in 24 h")


def test_a_retry_after_past_the_window_is_dead_at_once() -> None:
    attempt = Attempt(429, "HTTP 429", retry_after=str(25 * 3600))

    result = after_attempt(attempts=1, first_attempt_at=NOW, attempt=attempt, now=NOW, jitter=0.5)

    assert result.status == "dead"
    assert "Retry-After" in (result.last_error or "")


@given(st.lists(st.sampled_from([None, 200, 408, 429, 500, 503, 404, 410]), min_size=1, max_size=60))
def test_any_sequence_of_answers_ends_delivered_dead_or_within_the_window(codes: list[int | None]) -> None:
    now = NOW
    for attempts, code in enumerate(codes, start=1):
        result = after_attempt(attempts=attempts, first_attempt_at=NOW, attempt=Attempt(code), now=now, jitter=1.0)
        assert result.attempts == attempts
        if result.status != "pending":
            assert result.next_attempt_at is None
            return
        assert result.next_attempt_at is not None
        assert now <= result.next_attempt_at <= NOW + GIVE_UP_AFTER
        now = result.next_attempt_at


def line(sub: uuid.UUID, key: str, id_: int) -> Candidate:
    return Candidate(id_, sub, key)


def test_only_the_head_of_a_line_goes_and_not_while_its_line_is_in_flight() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    candidates = [line(a, "acme.com", 1), line(a, "acme.com", 2), line(a, "globex.com", 3), line(b, "acme.com", 4)]

    chosen = choose(candidates, in_flight=[(a, "globex.com")], per_subscription=4)

    assert [c.id for c in chosen] == [1, 4]


def test_a_subscription_gets_at_most_its_share_of_senders_and_the_others_still_go() -> None:
    slow, fast = uuid.uuid4(), uuid.uuid4()
    candidates = [line(slow, f"k{n}", n) for n in range(10)] + [line(fast, "acme.com", 99)]

    chosen = choose(candidates, in_flight=[(slow, "k-busy")], per_subscription=3)

    assert [c.id for c in chosen] == [0, 1, 99]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/hook", "scheme must be http or https"),
        ("file:///etc/passwd", "scheme must be http or https"),
        ("https:///nohost", "no host"),
        ("https://user:pw@example.com/", "credentials"),
        ("https://example.com:99999/", "not a valid URL"),
    ],
)
def test_only_http_and_https_urls_with_a_host_are_taken(url: str, problem: str) -> None:
    assert problem in (url_problem(url) or "")


def test_a_plain_https_url_is_taken() -> None:
    assert url_problem("https://hooks.example.com/leadflow?x=1") is None


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not a global"),
        ("fc00::1", "private"),
    ],
)
def test_non_global_addresses_are_refused_naming_the_range(address: str, kind: str) -> None:
    assert kind in (address_problem(address) or "")


def test_global_addresses_are_allowed() -> None:
    assert address_problem("93.184.216.34") is None
    assert address_problem("2606:2800:220:1:248:1893:25c8:1946") is None


def test_a_secret_is_whsec_and_base64_of_enough_random_bytes() -> None:
    assert format_secret(bytes(range(32))).startswith("whsec_AAECAwQF")
    with pytest.raises(ValueError, match="at least 24"):
        format_secret(b"short")


def test_after_a_rotation_both_secrets_sign_for_a_day() -> None:
    assert signing_secrets("new", "old", NOW + timedelta(hours=1), NOW) == ("new", "old")
    assert signing_secrets("new", "old", NOW, NOW) == ("new",)
    assert signing_secrets("new", None, None, NOW) == ("new",)
