"""Short-lived Kafka clients for one command, built from KAFKA_* settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka.connection import client_kwargs
from shared.settings import KafkaSettings

CLIENT_ID = "mentorlink-ops"


@asynccontextmanager
async def admin_client(settings: KafkaSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(client_id=CLIENT_ID, **client_kwargs(settings))
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


@asynccontextmanager
async def reader(settings: KafkaSettings) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer without a group: it reads what it is assigned and commits nothing."""
    consumer = AIOKafkaConsumer(
        client_id=CLIENT_ID, enable_auto_commit=False, **client_kwargs(settings)
    )
    await consumer.start()
    # Let the consumer's background task begin: aiokafka 0.14 raises CancelledError from stop()
    # when it cancels that task before it ever ran.
    await asyncio.sleep(0)
    try:
        yield consumer
    finally:
        await consumer.stop()


async def partitions_of(admin: AIOKafkaAdminClient, topic: str) -> list[int]:
    """Asked of the broker each time: a consumer's cached metadata may not know the topic yet."""
    described = await admin.describe_topics([topic])
    found = [t for t in described if t["error_code"] == 0]
    return sorted(p["partition"] for t in found for p in t["partitions"])
