"""An invalid message too large to dead-letter whole, after a small invalid one, on every
consumed topic (the internal mentor fan-out too): each is dead-lettered once, the large one
truncated with a pointer to its offset, and the next valid events on the same partitions still
flow (issue 30, fault 2).

The source topics allow 1.5 MB messages (as a deployment might); the services' producers keep
aiokafka's 1 MiB max_request_size, so a 1.2 MB body with the x-dlq-* headers does not fit.
"""

from __future__ import annotations

import json
from collections import Counter

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devenv.smtp_sink import SmtpSink
from services.matching.service_layer.topics import MENTOR_FEED
from shared.contracts.topics import FEEDBACK, GOALS, INGRESS, PROFILES, PROPOSALS, TopicSpec
from shared.kafka.connection import client_kwargs, producer_kwargs
from shared.settings import KafkaSettings
from tests.support.kafka import header, read_all
from tests.support.people import goal_body, ingress_upsert, mentee_body, mentor_body
from tests.support.platform import kafka_settings, running_platform
from tests.support.polling import eventually

LARGE_TOPIC_BYTES = 1_572_864
SMALL_INVALID = b'{"event_type": "GoalSet", "payload": '
LARGE_INVALID = b'{"padding": "' + b"x" * 1_200_000  # never closed: invalid JSON
CONSUMERS: dict[TopicSpec, set[str]] = {
    PROFILES: {"matching", "notifications"},  # a batch consumer and a single-message one
    GOALS: {"matching", "notifications"},  # notifications quotes the goal to the mentor asked
    FEEDBACK: {"matching", "notifications"},  # and emails each step of a relationship
    PROPOSALS: {"notifications"},  # batch
    INGRESS: {"profile"},  # single-message
    MENTOR_FEED: {"matching"},  # matching's internal fan-out
}


async def create_large_topics(kafka: KafkaSettings) -> None:
    admin = AIOKafkaAdminClient(**client_kwargs(kafka))
    await admin.start()
    try:
        config = {"max.message.bytes": str(LARGE_TOPIC_BYTES)}
        await admin.create_topics(
            [
                NewTopic(t.qualified(kafka.topic_prefix), 3, 1, topic_configs=config)
                for t in CONSUMERS
            ]
        )
    finally:
        await admin.close()


async def publish_invalid_pair(kafka: KafkaSettings, key: bytes) -> dict[TopicSpec, int]:
    """The small then the large invalid message on each topic; returns the large one's offset."""
    producer = AIOKafkaProducer(**producer_kwargs(kafka), max_request_size=2 * LARGE_TOPIC_BYTES)
    await producer.start()
    try:
        offsets = {}
        for topic in CONSUMERS:
            name = topic.qualified(kafka.topic_prefix)
            await producer.send_and_wait(name, SMALL_INVALID, key=key)
            offsets[topic] = (await producer.send_and_wait(name, LARGE_INVALID, key=key)).offset
        return offsets
    finally:
        await producer.stop()


async def test_an_oversized_invalid_message_is_dead_lettered_once_and_its_partition_moves_on(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    kafka = kafka_settings(kafka_endpoint, topic_prefix)
    await create_large_topics(kafka)
    mentee = f"mentee-{unique}"
    address = f"large-{unique}@example.org"
    async with running_platform(kafka_endpoint, database_url, topic_prefix, smtp_sink) as platform:
        large_at = await publish_invalid_pair(kafka, mentee.encode())

        # The next valid events on the same partitions: the mentee arrives through ingress.
        command = ingress_upsert(mentee, platform.tenant, body=mentee_body(email=address))
        await platform.matching.broker.publish(
            json.dumps(command).encode(), topic=INGRESS.qualified(topic_prefix), key=mentee.encode()
        )
        http, auth = platform.http, platform.auth
        assert (
            await http.put(f"/v1/profiles/mentor-{unique}", json=mentor_body(), headers=auth)
        ).is_success
        await eventually(
            lambda: _found(http, f"/v1/profiles/{mentee}", auth),
            timeout=60,
            what="mentee applied from ingress",
        )
        goal = await http.put(f"/v1/profiles/{mentee}/goal", json=goal_body(), headers=auth)
        assert goal.is_success, goal.text
        await eventually(lambda: smtp_sink.messages(to=address), timeout=90, what="the email")

        for topic, services in CONSUMERS.items():
            letters = await read_all(kafka, topic.dead_letter(topic_prefix))
            per_service_offset = Counter(
                (header(r, "x-dlq-service"), header(r, "x-dlq-offset")) for r in letters
            )
            assert set(per_service_offset.values()) == {1}, (topic.name, per_service_offset)
            assert {s for s, _ in per_service_offset} == services, topic.name
            assert len(letters) == 2 * len(services), topic.name
            for letter in letters:
                if header(letter, "x-dlq-offset") == str(large_at[topic]):
                    assert header(letter, "x-dlq-truncated") == "true"
                    assert header(letter, "x-dlq-original-bytes") == str(len(LARGE_INVALID))
                    assert LARGE_INVALID.startswith(letter.value)
                else:
                    assert letter.value == SMALL_INVALID
                assert header(letter, "x-dlq-source-topic") == topic.qualified(topic_prefix)

        for service in (platform.profile, platform.matching, platform.notifications):
            ready = await _get(service.app, "/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["partitions_progressing"] is True


async def _found(http: httpx.AsyncClient, path: str, auth: dict[str, str]) -> bool:
    return (await http.get(path, headers=auth)).status_code == 200


async def _get(app, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        return await c.get(path)
