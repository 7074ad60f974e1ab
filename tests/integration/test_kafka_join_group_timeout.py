"""A JoinGroup that the coordinator holds longer than the request timeout is waited for.

The production profile's request timeout (5 s) is below the rebalance timeout (the group
session, 10 s), and the coordinator holds a JoinGroup until every member has rejoined. Here a
member that takes 3 s to give up its partitions (a slow revocation, like a handler finishing its
batch) holds the join of a newcomer whose request timeout is 1 s: the newcomer must get into the
group without abandoning its JoinGroup (shared/kafka/join_group.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devenv.infra import KafkaEndpoint
from shared.kafka.connection import client_kwargs
from shared.settings import KafkaSettings
from tests.support.polling import eventually

REVOCATION_S = 3.0


class SlowRevocation(ConsumerRebalanceListener):  # type: ignore[misc]
    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await asyncio.sleep(REVOCATION_S)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


@contextlib.asynccontextmanager
async def member(
    settings: KafkaSettings, topic: str, group: str, request_timeout_ms: int
) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        **{**client_kwargs(settings), "request_timeout_ms": request_timeout_ms},
        group_id=group,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=500,
    )
    consumer.subscribe([topic], listener=SlowRevocation())
    await consumer.start()

    async def poll() -> None:
        while True:
            await consumer.getmany(timeout_ms=200)

    polling = asyncio.create_task(poll())
    try:
        yield consumer
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await consumer.stop()


async def test_a_join_held_past_the_request_timeout_is_not_abandoned(
    kafka_endpoint: KafkaEndpoint,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = KafkaSettings(**kafka_endpoint.settings(), topic_prefix=topic_prefix)
    topic, group = settings.group("joins"), settings.group("joiners")
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])
    finally:
        await admin.close()
    caplog.set_level(logging.ERROR, logger="aiokafka.consumer.group_coordinator")

    async with member(settings, topic, group, request_timeout_ms=40_000) as first:
        await eventually(first.assignment, timeout=60, what="the first member's partitions")
        async with member(settings, topic, group, request_timeout_ms=1_000) as newcomer:
            await eventually(newcomer.assignment, timeout=60, what="the newcomer's partition")
            # The first member learns its share from its own SyncGroup answer, a moment later.
            await eventually(
                lambda: len(first.assignment()) == 1, timeout=60, what="one partition each"
            )

    abandoned = [r.getMessage() for r in caplog.records if "JoinGroupRequest" in r.getMessage()]
    assert abandoned == []
