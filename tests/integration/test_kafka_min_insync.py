"""Two of three Kafka nodes down: `min.insync.replicas=2` cannot be met; a frozen leader or
group coordinator (issue 27).

Three KRaft nodes (devenv/cluster.py) and the services' own producer with the production profile
(acks=all, idempotence, topics with replication 3 and min.insync.replicas 2). With two nodes
SIGKILLed the producer must fail loudly instead of acknowledging; when they return, everything
that was acknowledged is there, and what failed is delivered by sending it again. With the
group coordinator's node frozen, /metrics still answers (its consumer-lag probe asks that
coordinator).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from devenv.cluster import (
    BROKER_HEARTBEAT_INTERVAL_MS,
    BROKER_SESSION_TIMEOUT_MS,
    KafkaCluster,
    kafka_cluster,
)
from shared.kafka.broker import build_broker, start_broker
from shared.kafka.connection import client_kwargs
from shared.kafka.producer import kafka_producer
from shared.metrics import REFRESH_TIMEOUT_S, consumer_lag_refresher, render
from shared.settings import KafkaSettings
from tests.support.polling import eventually


@pytest.fixture(scope="module")
def cluster() -> Iterator[KafkaCluster]:
    root = Path(tempfile.mkdtemp(prefix="mentorlink-kafka3-"))
    try:
        with kafka_cluster(root) as nodes:
            yield nodes
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def settings(cluster: KafkaCluster) -> AsyncIterator[KafkaSettings]:
    production = KafkaSettings(
        profile="production",
        bootstrap_servers=cluster.bootstrap_servers,
        topic_prefix=f"isr{uuid.uuid4().hex[:8]}.",
        connect_timeout_s=5,
    )
    admin = AIOKafkaAdminClient(**client_kwargs(production))
    await admin.start()
    try:
        config = {"min.insync.replicas": str(production.min_insync_replicas)}
        topic = NewTopic(
            production.group("events"), 1, production.replication_factor, topic_configs=config
        )
        await admin.create_topics([topic])
    finally:
        await admin.close()
    yield production


async def partition_0(settings: KafkaSettings, topic: str) -> dict[str, Any]:
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partition: dict[str, Any] = described[0]["partitions"][0]
    return partition


async def leader_of(settings: KafkaSettings, topic: str) -> int:
    return int((await partition_0(settings, topic))["leader"])


async def broker_configs(settings: KafkaSettings, node_id: int) -> dict[str, str]:
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        names = {"broker.session.timeout.ms": None, "broker.heartbeat.interval.ms": None}
        resource = ConfigResource(ConfigResourceType.BROKER, str(node_id), configs=names)
        responses = await admin.describe_configs([resource])
    finally:
        await admin.close()
    return {
        entry["config_names"]: entry["config_value"]
        for response in responses
        for described in response.to_object()["resources"]
        for entry in described["config_entries"]
    }


@pytest.mark.needs_tool("java")
@pytest.mark.own_infrastructure
async def test_every_node_is_fenced_after_the_tuned_session_timeout(
    settings: KafkaSettings,
) -> None:
    """The leader gap after a crash starts with this timeout (docs/operations.md, Failover)."""
    for node_id in (1, 2, 3):
        assert await broker_configs(settings, node_id) == {
            "broker.session.timeout.ms": BROKER_SESSION_TIMEOUT_MS,
            "broker.heartbeat.interval.ms": BROKER_HEARTBEAT_INTERVAL_MS,
        }


async def send(producer: AIOKafkaProducer, topic: str, value: bytes) -> bool:
    """True once Kafka acknowledged; False when the producer failed (loudly, with an error)."""
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, value), 30)
    except Exception:  # any failure means "not acknowledged"; the test counts them
        return False
    return True


async def read_all(settings: KafkaSettings, topic: str) -> set[bytes]:
    consumer = AIOKafkaConsumer(
        topic, **client_kwargs(settings), auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
        return {record.value for records in batches.values() for record in records if record.value}
    finally:
        await consumer.stop()


@pytest.mark.needs_tool("java")
@pytest.mark.own_infrastructure
async def test_a_frozen_leader_loses_nothing_acknowledged(
    cluster: KafkaCluster, settings: KafkaSettings
) -> None:
    """A leader that vanishes without closing its sockets (SIGSTOP, the stand-in for a lost
    machine): sends in flight to it time out instead of failing at once, the controllers fence
    it and elect a new leader, the producer moves there, and when the old leader comes back
    with its stale log, nothing that was acknowledged is gone."""
    topic = settings.group("events")
    failed: list[bytes] = []
    async with kafka_producer(settings, "frozen-test") as producer:
        acknowledged = await send_ten(producer, topic)
        leader = await leader_of(settings, topic)
        cluster.freeze(leader)
        try:
            values = [f"frozen-{i}".encode() for i in range(5)]
            results = await asyncio.gather(*(send(producer, topic, v) for v in values))
            for value, acked in zip(values, results, strict=True):
                (acknowledged.add if acked else failed.append)(value)
            # Acknowledged while the old leader is still frozen: only a new leader can do that.
            after = b"after-election"
            await eventually(
                lambda: send(producer, topic, after), timeout=90, interval=1, what="new leader"
            )
            acknowledged.add(after)
        finally:
            cluster.thaw(leader)
        assert await leader_of(settings, topic) != leader, "no failover: was it frozen?"
        acknowledged |= await resend(producer, topic, failed)

    assert acknowledged <= await all_stored(settings, topic, acknowledged)
    # The thawed node is fenced, rejoins and catches up (the next test needs all three).
    await eventually(lambda: _fully_in_sync(settings, topic), timeout=120, interval=1, what="ISR 3")


async def _fully_in_sync(settings: KafkaSettings, topic: str) -> bool:
    return len((await partition_0(settings, topic))["isr"]) == settings.replication_factor


@pytest.mark.needs_tool("java")
@pytest.mark.own_infrastructure
async def test_two_nodes_down_fail_loudly_and_lose_nothing_acknowledged(
    cluster: KafkaCluster, settings: KafkaSettings
) -> None:
    topic = settings.group("events")
    failed: list[bytes] = []
    async with kafka_producer(settings, "isr-test") as producer:
        acknowledged = await send_ten(producer, topic)

        leader = await leader_of(settings, topic)
        followers = [n for n in (1, 2, 3) if n != leader]
        await asyncio.gather(*(asyncio.to_thread(cluster.kill, n) for n in followers))
        for i in range(3):
            value = f"during-{i}".encode()
            (acknowledged.add if await send(producer, topic, value) else failed.append)(value)
        assert failed == [f"during-{i}".encode() for i in range(3)], "acknowledged with 1 node"

        await asyncio.gather(*(asyncio.to_thread(cluster.node_at(n).start) for n in followers))
        acknowledged |= await resend(producer, topic, failed)

    assert acknowledged <= await all_stored(settings, topic, acknowledged)


async def send_ten(producer: AIOKafkaProducer, topic: str) -> set[bytes]:
    values = {f"before-{i}".encode() for i in range(10)}
    for value in sorted(values):
        assert await send(producer, topic, value)
    return values


async def resend(producer: AIOKafkaProducer, topic: str, failed: list[bytes]) -> set[bytes]:
    """What the outbox relay does: send again what was not acknowledged, until it is."""
    for value in failed:
        await eventually(
            lambda v=value: send(producer, topic, v), timeout=120, interval=1, what="resend"
        )
    return set(failed)


async def all_stored(settings: KafkaSettings, topic: str, wanted: set[bytes]) -> set[bytes]:
    return await eventually(
        lambda: _containing(settings, topic, wanted), timeout=60, what="every ack stored"
    )


async def _containing(settings: KafkaSettings, topic: str, wanted: set[bytes]) -> set[bytes]:
    stored = await read_all(settings, topic)
    return stored if wanted <= stored else set()


@pytest.mark.needs_tool("java")
@pytest.mark.own_infrastructure
async def test_a_scrape_answers_while_the_group_coordinator_is_frozen(
    cluster: KafkaCluster,
) -> None:
    settings = KafkaSettings(
        profile="production",
        bootstrap_servers=cluster.bootstrap_servers,
        topic_prefix=f"scrape{uuid.uuid4().hex[:8]}.",
    )
    broker = build_broker(settings, "scrape-test")
    subscriber = broker.subscriber(settings.group("events"), group_id=settings.group("readers"))
    subscriber(lambda body: None)
    await start_broker(broker)
    try:
        consumer: AIOKafkaConsumer = subscriber.consumer
        await eventually(lambda: consumer.assignment(), timeout=90, interval=0.5, what="assigned")
        refresh = consumer_lag_refresher("scrape-test", broker)
        await render({"consumer_lag": refresh})  # the coordinator answers: a scrape works
        coordinator = consumer._coordinator.coordinator_id
        assert coordinator is not None
        cluster.freeze(coordinator)
        try:
            started = time.monotonic()
            # Bounded so that the test ends even when the scrape waits for the new coordinator.
            body, _ = await asyncio.wait_for(render({"consumer_lag": refresh}), 120)
            waited = time.monotonic() - started
        finally:
            cluster.thaw(coordinator)
    finally:
        await broker.stop()
    assert b"mentorlink_consumer_lag" in body  # the last values, not nothing
    # The production request timeout (5 s) alone would make it wait longer than this.
    assert waited < REFRESH_TIMEOUT_S + 2.0, f"the scrape waited {waited:.1f} s"
