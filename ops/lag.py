"""Consumer lag: committed offset against end offset, per partition, for Mentorlink groups."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from ops.kafka_clients import admin_client, partitions_of, reader
from shared.settings import KafkaSettings


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here and starts at the beginning
    start: int
    end: int

    @property
    def lag(self) -> int:
        return self.end - (
            self.start if self.committed is None else max(self.committed, self.start)
        )


async def consumer_lag(settings: KafkaSettings, group: str | None = None) -> list[PartitionLag]:
    """Lag of `group`, or of every group named with the topic prefix."""
    async with admin_client(settings) as admin:
        if group is None:
            listed = await admin.list_consumer_groups()
            groups = sorted(g[0] for g in listed if g[0].startswith(settings.topic_prefix))
        else:
            groups = [group]
        committed = {g: await admin.list_consumer_group_offsets(g) for g in groups}
        topics = sorted({tp.topic for offsets in committed.values() for tp in offsets})
        partitions = {topic: await partitions_of(admin, topic) for topic in topics}
    rows: list[PartitionLag] = []
    if not topics:
        return rows
    async with reader(settings) as consumer:
        for name, offsets in committed.items():
            rows.extend(await _group_lag(consumer, name, offsets, partitions))
    return rows


async def _group_lag(
    consumer: AIOKafkaConsumer,
    group: str,
    offsets: dict[TopicPartition, OffsetAndMetadata],
    partitions_by_topic: dict[str, list[int]],
) -> list[PartitionLag]:
    """Every partition of every topic the group committed on, committed or not."""
    topics = sorted({tp.topic for tp in offsets})
    partitions = [TopicPartition(t, p) for t in topics for p in partitions_by_topic[t]]
    if not partitions:
        return []
    starts = await consumer.beginning_offsets(partitions)
    ends = await consumer.end_offsets(partitions)
    return [
        PartitionLag(
            group=group,
            topic=tp.topic,
            partition=tp.partition,
            committed=offsets[tp].offset if tp in offsets and offsets[tp].offset >= 0 else None,
            start=starts[tp],
            end=ends[tp],
        )
        for tp in partitions
    ]
