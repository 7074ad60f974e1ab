"""A started aiokafka producer with the project's delivery policy (acks=all, idempotence)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaProducer

from shared.kafka.connection import producer_kwargs
from shared.settings import KafkaSettings


@asynccontextmanager
async def kafka_producer(
    settings: KafkaSettings, client_id: str
) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(client_id=client_id, **producer_kwargs(settings))
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()
