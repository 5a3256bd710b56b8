"""The Kafka backend: consumer groups with manual offset commits, and the producer the relay uses."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.consumer import KafkaConsumer
from kafka.errors import CommitFailedError, TopicAlreadyExistsError
from kafka.producer import KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition
from sqlalchemy.orm import Session

from eventlog import kafka_records
from eventlog.log import Record

kafka_records.tolerate_any_header_key()

log = logging.getLogger(__name__)


class KafkaLogConsumer:
    """A kafka-python consumer in a group; offsets are committed only after the handler's transaction."""

    def __init__(
        self, bootstrap: str, group: str, topics: Sequence[str], *, topic_prefix: str = "", **config: Any
    ) -> None:
        # Records carry the topic's name without the deployment's prefix: the rest of leadflow never sees it.
        self._prefix = topic_prefix
        self._consumer = KafkaConsumer(
            *(topic_prefix + topic for topic in topics),
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"leadflow-{group}",
            # Notice new partitions and topics within seconds, not the default five minutes.
            metadata_max_age_ms=config.pop("metadata_max_age_ms", 10_000),
            **config,
        )
        self._next: dict[TopicPartition, int] = {}

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """The next records; within a partition in log order."""
        self._keep_rebalance_wanted()
        polled = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        records = []
        for tp, messages in polled.items():
            topic = tp.topic.removeprefix(self._prefix)
            for message in messages:
                headers = tuple(message.headers or ())
                records.append(Record(topic, tp.partition, message.offset, message.key, message.value, headers))
            self._next[tp] = messages[-1].offset + 1
        return records

    def lag(self) -> dict[tuple[str, int], int]:
        """Per partition read so far and still owned: the broker's high watermark (from the last fetch) minus the
        next offset."""
        assigned = self._consumer.assignment()
        for tp in [tp for tp in self._next if tp not in assigned]:
            # Revoked in a rebalance (another member joined): its lag is its new owner's to tell, and asking
            # kafka-python for an unowned partition's watermark raises, which would stop this consumer for good.
            del self._next[tp]
        lags = {}
        for tp, next_offset in self._next.items():
            highwater = self._consumer.highwater(tp)
            if highwater is not None:
                lags[(tp.topic.removeprefix(self._prefix), tp.partition)] = max(0, highwater - next_offset)
        return lags

    def _keep_rebalance_wanted(self) -> None:
        """Make sure a rebalance that has started is finished by a later poll, even if this one times out.

        kafka-python 3.0.12 starts a rebalance when the leader sees the partitions of its topics change (at
        startup, when the first join got in before the first metadata answer and was assigned nothing, or
        when partitions are added) without setting the coordinator's rejoin flag. Assigning partitions
        makes the metadata snapshots match again, so if the poll times out between that and the SyncGroup
        answer, `need_rejoin()` is False from then on: no later poll reads the finished join, the
        assignment is never applied and heartbeats stay off. The member consumes nothing until it is
        restarted. Setting the flag keeps the rebalance wanted until a poll completes it (the Java client
        fixed the same gap in KAFKA-9815).
        """
        coordinator = self._consumer._coordinator
        if coordinator.rebalance_in_progress() or coordinator.need_rejoin():
            coordinator.request_rejoin()

    def stage_offsets(self, session: Session, records: Sequence[Record]) -> None:
        """Kafka keeps offsets in the broker: nothing to write in the database."""

    def commit(self, records: Sequence[Record]) -> None:
        """Commit the offset after the last record of each partition."""
        offsets = {
            tp: OffsetAndMetadata(offset + 1, "", -1) for tp, offset in _last_offsets(records, self._prefix).items()
        }
        try:
            self._consumer.commit(offsets)
        except CommitFailedError:
            # The group rebalanced: the new owner starts from the last committed offset, and the inbox
            # drops what this consumer already handled.
            log.warning("offset commit refused after a rebalance; the new owner will skip by inbox")

    def rewind(self, records: Sequence[Record]) -> None:
        """Seek each partition back to the first record of the failed batch."""
        assigned = self._consumer.assignment()
        for tp, offset in _first_offsets(records, self._prefix).items():
            if tp in assigned:
                self._consumer.seek(tp, offset)

    def assignment(self) -> set[TopicPartition]:
        """The partitions this member of the group owns now."""
        return set(self._consumer.assignment())

    def close(self) -> None:
        """Leave the group without committing anything more."""
        self._consumer.close(autocommit=False)


def _last_offsets(records: Iterable[Record], prefix: str) -> dict[TopicPartition, int]:
    last: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(prefix + record.topic, record.partition)
        last[tp] = max(record.offset, last.get(tp, -1))
    return last


def _first_offsets(records: Iterable[Record], prefix: str) -> dict[TopicPartition, int]:
    first: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(prefix + record.topic, record.partition)
        first[tp] = min(record.offset, first.get(tp, record.offset))
    return first


def make_producer(bootstrap: str, **config: Any) -> KafkaProducer:
    """An idempotent producer that waits for all in-sync replicas."""
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        client_id="leadflow-relay",
        **config,
    )


def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int, replication: int = 1) -> None:
    """Create the topics that do not exist yet, with `partitions` partitions each."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="leadflow-admin")
    try:
        wanted = set(topics)
        for topic in sorted(wanted - set(admin.list_topics())):
            with contextlib.suppress(TopicAlreadyExistsError):  # another process was quicker
                admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=replication)])
        # A consumer that asks for metadata before the broker knows a new topic's leaders is assigned nothing
        # on it: return only once every partition has a leader.
        deadline = time.monotonic() + 30
        while not _all_led(admin.describe_topics(sorted(wanted))) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        admin.close()


def _all_led(descriptions: list[dict[str, Any]]) -> bool:
    return all(
        description.get("error_code") == 0
        and description.get("partitions")
        and all(partition.get("leader_id", -1) >= 0 for partition in description["partitions"])
        for description in descriptions
    )
