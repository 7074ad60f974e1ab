"""Read a topic from the start without a consumer group (to inspect dead letters)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.kafka.connection import client_kwargs
from shared.settings import KafkaSettings


async def read_all(settings: KafkaSettings, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(**client_kwargs(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        # An explicit seek: seek_to_beginning can lose a race with the initial offset reset.
        for tp, offset in (await consumer.beginning_offsets(assigned)).items():
            consumer.seek(tp, offset)
        ends = await consumer.end_offsets(assigned)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(*assigned, timeout_ms=500)
            for chunk in batch.values():
                records.extend(chunk)
        return records
    finally:
        await consumer.stop()


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    return None
