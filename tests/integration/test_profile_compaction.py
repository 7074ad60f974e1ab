"""Compaction on a real broker removes an erased person's profile records: with the windows
shortened to seconds, the records under their key before the tombstone disappear while another
person's newest record stays. (The defaults are a day: docs/operations.md.)"""

from __future__ import annotations

import pytest

from shared.contracts.topics import PROFILES
from shared.kafka.producer import kafka_producer
from shared.kafka.topics import ensure_topics
from tests.support.kafka import read_all
from tests.support.platform import kafka_settings
from tests.support.polling import eventually

SECOND_H = 1 / 3600


@pytest.mark.broker_feature("compaction")
async def test_a_tombstone_compacts_the_persons_records_away(kafka_endpoint, topic_prefix) -> None:
    kafka = kafka_settings(kafka_endpoint, topic_prefix).model_copy(
        update={
            "erasure_grace_hours": SECOND_H,
            "compaction_max_lag_hours": 2 * SECOND_H,
            "partitions": 1,  # the next record rolls the tombstone's segment
        }
    )
    await ensure_topics(kafka, [PROFILES])
    topic = PROFILES.qualified(topic_prefix)
    erased, kept = PROFILES.record_key("acme", "u-erased"), PROFILES.record_key("acme", "u-kept")
    async with kafka_producer(kafka, "compaction-test") as producer:
        for version in range(3):
            for key in (erased, kept):
                await producer.send_and_wait(topic, key=key, value=b'{"v": %d}' % version)
        await producer.send_and_wait(topic, key=erased, value=None)

        async def compacted() -> bool:
            # later records roll the open segment, so the cleaner may take the tombstone's
            await producer.send_and_wait(topic, key=kept, value=b'{"v": 9}')
            records = await read_all(kafka, topic)
            theirs = [r for r in records if r.key == erased]
            return all(r.value is None for r in theirs) and any(r.key == kept for r in records)

        await eventually(compacted, timeout=120, interval=2.0, what="the erased key compacted")
