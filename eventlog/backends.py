"""The two backends of the event log behind one interface; which one is a setting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine

from database.engine import is_postgresql, make_session_factory
from eventlog.kafka import KafkaLogConsumer, make_producer
from eventlog.log import LogConsumer
from eventlog.processor import Handler, Handlers, Processor
from eventlog.relay import Relay
from eventlog.sql import SqlLogConsumer
from eventlog.unit_of_work import UnitOfWork


class EventLog(Protocol):
    """What services need of the event log: units of work that emit, consumers, and a relay where one runs."""

    name: str

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work whose emitted events this log carries."""
        ...

    def consumer(self, group: str, topics: Sequence[str]) -> LogConsumer:
        """A consumer of `topics` in consumer group `group`."""
        ...

    def relay(self) -> Relay | None:
        """The outbox relay, or None where the outbox itself is the log."""
        ...


class SqlEventLog:
    """The embedded backend: the outbox table is the log (SQLite or PostgreSQL)."""

    name = "sql"

    def __init__(self, engine: Engine) -> None:
        self._session_factory = make_session_factory(engine)
        self._ordered_appends = is_postgresql(engine)

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work whose appends keep positions in commit order."""
        return UnitOfWork(self._session_factory, ordered_appends=self._ordered_appends)

    def consumer(self, group: str, topics: Sequence[str]) -> LogConsumer:
        """A consumer reading the outbox by position."""
        return SqlLogConsumer(self._session_factory, group, topics)

    def relay(self) -> Relay | None:
        """No relay: consumers read the outbox directly."""
        return None


class KafkaEventLog:
    """The production backend: the outbox is relayed to Kafka, consumers are Kafka consumer groups."""

    name = "kafka"

    def __init__(
        self,
        engine: Engine,
        bootstrap: str,
        consumer_config: Mapping[str, Any] | None = None,
        topic_prefix: str = "",
    ) -> None:
        self._session_factory = make_session_factory(engine)
        self._bootstrap = bootstrap
        self._consumer_config = dict(consumer_config or {})
        self._prefix = topic_prefix

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work; the relay publishes what it commits."""
        return UnitOfWork(self._session_factory)

    def consumer(self, group: str, topics: Sequence[str]) -> LogConsumer:
        """A Kafka consumer in group `group`."""
        # The deployment's prefix names its consumer groups too: two deployments on one cluster never mix.
        group_id = self._prefix + group
        return KafkaLogConsumer(self._bootstrap, group_id, topics, topic_prefix=self._prefix, **self._consumer_config)

    def relay(self) -> Relay | None:
        """The relay from the outbox to Kafka."""
        return Relay(self._session_factory, make_producer(self._bootstrap), self._prefix)


def processor(
    log: EventLog,
    *,
    group: str,
    topics: Sequence[str],
    handlers: Handlers | Mapping[str, Handler],
    batch_size: int = 500,
) -> Processor:
    """A consumer loop for `group` running `handlers` over `topics` of `log`."""
    return Processor(
        group=group,
        consumer=log.consumer(group, topics),
        uow=log.unit_of_work(),
        handlers=handlers,
        batch_size=batch_size,
    )
