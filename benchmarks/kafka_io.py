"""Kafka clients for the benchmarks: a publisher of wire events, group lag, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.contracts.envelope import EventEnvelope
from shared.kafka.connection import client_kwargs, producer_kwargs
from shared.settings import KafkaSettings

JSON_HEADERS = [("content-type", b"application/json")]
STOP_TIMEOUT_S = 10.0


class Publisher:
    """Publishes events keyed by person, as the profile service's outbox relay does."""

    def __init__(self, settings: KafkaSettings) -> None:
        self._settings = settings
        self._producer = AIOKafkaProducer(**producer_kwargs(settings))
        self._pending: list[object] = []

    async def __aenter__(self) -> Publisher:
        await self._producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.flush()
        await self._stop()

    async def _stop(self) -> None:
        with contextlib.suppress(Exception):  # a producer stuck on a lost broker may not stop
            await asyncio.wait_for(self._producer.stop(), STOP_TIMEOUT_S)

    async def reset(self) -> None:
        """Drop the producer and its undelivered messages; start a fresh one."""
        self._pending = []
        await self._stop()
        self._producer = AIOKafkaProducer(**producer_kwargs(self._settings))
        await self._producer.start()

    async def publish(self, topic: str, event: EventEnvelope) -> None:
        """Hand the event to the producer without waiting for its acknowledgement."""
        await self.publish_bytes(topic, event.key, event.to_bytes())

    async def publish_bytes(self, topic: str, key: str, value: bytes) -> None:
        """Hand a record to the producer without waiting for its acknowledgement."""
        future = await self._producer.send(topic, value, key=key.encode(), headers=JSON_HEADERS)
        self._pending.append(future)

    async def publish_now(self, topic: str, key: str, value: bytes) -> None:
        """Publish and wait for the broker's acknowledgement."""
        await self._producer.send_and_wait(topic, value, key=key.encode(), headers=JSON_HEADERS)

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            await future  # type: ignore[misc]


async def groups_lag(settings: KafkaSettings) -> dict[str, int]:
    """Per consumer group named with the run's prefix: uncommitted messages, read from Kafka.

    A partition the group never committed counts from the start of the partition, so a group
    that is rebalancing after a restart is not mistaken for one that has caught up.
    """
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    consumer = AIOKafkaConsumer(**client_kwargs(settings), enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        groups = [g[0] for g in await admin.list_consumer_groups()]
        ours = [g for g in groups if g.startswith(settings.topic_prefix) and "-bare-" not in g]
        lag: dict[str, int] = {}
        for group in ours:
            topics = await _group_topics(admin, group)
            partitions = [
                TopicPartition(topic, p)
                for topic in topics
                for p in consumer.partitions_for_topic(topic) or ()
            ]
            committed = await admin.list_consumer_group_offsets(group)
            begin = await consumer.beginning_offsets(partitions)
            end = await consumer.end_offsets(partitions)
            lag[group] = sum(
                end[tp] - (committed[tp].offset if tp in committed else begin[tp])
                for tp in partitions
            )
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def _group_topics(admin: AIOKafkaAdminClient, group: str) -> set[str]:
    """The topics a group subscribes to: those it has committed offsets for."""
    return {tp.topic for tp in await admin.list_consumer_group_offsets(group)}


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]


async def dead_letters(settings: KafkaSettings, suffix: str) -> list[DeadLetter]:
    """Every record of every topic named with the run's prefix and `suffix`, from the start."""
    consumer = AIOKafkaConsumer(**client_kwargs(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()  # every topic, not only known ones
        ours = sorted(
            t
            for t in cluster.topics()
            if t.startswith(settings.topic_prefix) and t.endswith(suffix)
        )
        partitions = [
            TopicPartition(topic, p)
            for topic in ours
            for p in cluster.partitions_for_topic(topic) or ()
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
            letters += [
                DeadLetter(
                    r.topic,
                    r.key,
                    r.value or b"",
                    {k: bytes(v).decode(errors="replace") for k, v in r.headers},
                )
                for records in batches.values()
                for r in records
            ]
        return letters
    finally:
        await consumer.stop()
