"""shared.kafka.broker.start_broker starts a broker's subscribers together: each one consumes,
the publishers publish, as after FastStream's own start()."""

from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devenv.infra import KafkaEndpoint
from shared.kafka.broker import build_broker, start_broker
from shared.kafka.connection import client_kwargs
from shared.kafka.consumer import subscriber_options
from shared.kafka.producer import kafka_producer
from shared.settings import KafkaSettings
from tests.support.polling import eventually


async def test_every_subscriber_consumes_and_every_publisher_publishes(
    kafka_endpoint: KafkaEndpoint, topic_prefix: str
) -> None:
    settings = KafkaSettings(**kafka_endpoint.settings(), topic_prefix=topic_prefix)
    names = [settings.group(name) for name in ("a", "b", "c", "out")]
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 2, 1) for name in names])
    finally:
        await admin.close()
    broker = build_broker(settings, "start-probe")
    seen: dict[str, list[Any]] = {name: [] for name in names}
    out = broker.publisher(names[3])

    def subscribe(topic: str, forward: bool) -> None:
        @broker.subscriber(topic, **subscriber_options(f"{topic}.group", settings))
        async def handle(body: dict[str, Any]) -> None:
            seen[topic].append(body)
            if forward:
                await out.publish({"from": topic})

    for topic in names:
        subscribe(topic, forward=topic != names[3])

    await start_broker(broker)
    try:
        assert broker.running
        async with kafka_producer(settings, "start-probe-producer") as producer:
            for topic in names[:3]:
                await producer.send_and_wait(topic, b'{"n": 1}')
        await eventually(
            lambda: (
                all(seen[topic] == [{"n": 1}] for topic in names[:3]) and len(seen[names[3]]) == 3
            ),
            timeout=60,
            what="each subscriber's message and the three it published",
        )
    finally:
        await broker.stop()
