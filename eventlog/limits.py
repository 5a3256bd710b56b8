"""How large a record the broker takes, known before anything is written, and what to do with one too large."""

from __future__ import annotations

from collections.abc import Mapping

# kafka-python's max_request_size (and the broker's message.max.bytes) is 1 MiB; a record also carries a
# record-batch header, varints and its headers. The margin keeps every record we write safely below.
MAX_REQUEST_BYTES = 1_048_576
_OVERHEAD = 4_096
MAX_RECORD_BYTES = MAX_REQUEST_BYTES - _OVERHEAD

# A dead-letter copy keeps this much of a huge key; the table keeps all of it.
_MAX_DLQ_KEY_BYTES = 16_384
TRUNCATED_HEADER = "leadflow.dlq.truncated"


class RecordTooLarge(ValueError):  # noqa: N818 - an outcome named for what it is
    """An event larger than the broker takes: refused before it is written, so nothing can block on it."""


def record_size(key: bytes | None, value: bytes | None, headers: Mapping[str, str] | None = None) -> int:
    """The bytes a record takes in a produce request, near enough (the margin covers the rest)."""
    size = len(key or b"") + len(value or b"")
    for name, header in (headers or {}).items():
        size += len(name.encode()) + len(header.encode()) + 10
    return size


def check_size(topic: str, key: bytes | None, value: bytes | None, headers: Mapping[str, str] | None) -> None:
    """Raise `RecordTooLarge` when the broker would never take this record."""
    size = record_size(key, value, headers)
    if size > MAX_RECORD_BYTES:
        raise RecordTooLarge(f"an event of {size} bytes for {topic}: the limit is {MAX_RECORD_BYTES} bytes")


def fit(
    key: bytes | None, value: bytes | None, headers: dict[str, str]
) -> tuple[bytes | None, bytes | None, dict[str, str]]:
    """A copy of a record cut to fit the broker, with a header that says what was cut; unchanged if it fits."""
    if record_size(key, value, headers) <= MAX_RECORD_BYTES:
        return key, value, headers
    original = f"key {len(key or b'')} bytes, value {len(value or b'')} bytes"
    headers = {**headers, TRUNCATED_HEADER: original}
    if key is not None and len(key) > _MAX_DLQ_KEY_BYTES:
        key = key[:_MAX_DLQ_KEY_BYTES]
    room = MAX_RECORD_BYTES - record_size(key, None, headers)
    if value is not None and len(value) > room:
        value = value[: max(0, room)]
    return key, value, headers
