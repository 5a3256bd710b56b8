"""Telling transient faults from poison, and backing off while they pass."""

from __future__ import annotations

import random

from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from eventlog.log import TransientError

_TRANSIENT = (
    TransientError,
    OperationalError,  # server gone, connection refused, deadlock, serialization failure, SQLite busy
    DisconnectionError,
    PoolTimeoutError,
    KafkaError,
    ConnectionError,
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """Whether `error` will likely pass by itself: retry then, never dead-letter."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _TRANSIENT)


class Backoff:
    """Exponential backoff with jitter: 0.1 s doubling up to `cap_s`."""

    def __init__(self, base_s: float = 0.1, cap_s: float = 5.0) -> None:
        self._base_s = base_s
        self._cap_s = cap_s
        self._attempt = 0

    def next(self) -> float:
        """The next delay."""
        delay = min(self._cap_s, self._base_s * 2**self._attempt)
        self._attempt += 1
        return float(delay * random.uniform(0.5, 1.0))

    def reset(self) -> None:
        """Back to the shortest delay after a success."""
        self._attempt = 0
