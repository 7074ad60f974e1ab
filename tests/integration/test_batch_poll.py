"""A batch subscriber (shared/kafka/batch_poll.py) handles the first record after a quiet spell
as soon as it is fetched, and an idle one wakes about once per KAFKA_BATCH_POLL_MS."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devenv.infra import KafkaEndpoint
from shared.kafka.broker import build_broker, start_broker
from shared.kafka.connection import client_kwargs
from shared.kafka.consumer import subscriber_options
from shared.kafka.producer import kafka_producer
from shared.settings import KafkaSettings
from tests.support.polling import eventually


async def test_a_quiet_batch_subscriber_sleeps_in_its_poll_not_after_it(
    kafka_endpoint: KafkaEndpoint, topic_prefix: str
) -> None:
    # A poll of 3 s: FastStream's sleep after an empty one would hold a record up to that long.
    settings = KafkaSettings(
        **kafka_endpoint.settings(), topic_prefix=topic_prefix, batch_poll_ms=3000
    )
    topic = settings.group("quiet")
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])
    finally:
        await admin.close()
    broker = build_broker(settings, "quiet-probe")
    handled: list[float] = []

    subscriber = broker.subscriber(
        topic, **subscriber_options(f"{topic}.group", settings), batch=True
    )

    @subscriber
    async def handle(bodies: list[Any]) -> None:
        handled.extend(time.monotonic() for _ in bodies)

    polls = 0
    await start_broker(broker)
    try:
        consumer: AIOKafkaConsumer = subscriber.consumer
        await eventually(lambda: consumer.assignment(), timeout=90, what="assigned")
        getmany = consumer.getmany

        async def counted(*partitions: object, **options: object) -> object:
            nonlocal polls
            polls += 1
            return await getmany(*partitions, **options)  # type: ignore[arg-type]

        consumer.getmany = counted  # type: ignore[method-assign]
        async with kafka_producer(settings, "quiet-probe-producer") as producer:
            for _ in range(3):
                # The quiet spell is what is tested (no wait for a condition): longer than a
                # poll, so that the record comes after an empty one.
                await asyncio.sleep(4.0)
                sent = time.monotonic()
                await producer.send_and_wait(topic, b"{}")
                await eventually(lambda: len(handled) == 1, timeout=30, what="the record")
                waited = handled.pop() - sent
                assert waited < 1.5, f"the first record after a quiet spell waited {waited:.2f} s"
        # about 12 s idle in all, polls of 3 s: a handful (a 10 ms poll and sleep made 600)
        assert polls <= 12, polls
    finally:
        await broker.stop()
