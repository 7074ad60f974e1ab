"""mentorlink-ops against the real broker, through typer's CliRunner, with random prefixes."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from typer.testing import CliRunner, Result

from devenv.infra import KafkaEndpoint
from ops.cli import app
from shared.contracts.topics import GOALS, PROFILES, TOPICS
from shared.kafka.connection import client_kwargs, producer_kwargs
from shared.kafka.dead_letter import DeadLetter
from shared.settings import KafkaSettings
from tests.support.kafka import header, read_all

PARTITIONS = 2


@pytest.fixture
def settings(kafka_endpoint: KafkaEndpoint, topic_prefix: str) -> KafkaSettings:
    return KafkaSettings(
        **kafka_endpoint.settings(),
        topic_prefix=topic_prefix,
        partitions=PARTITIONS,
    )


@pytest.fixture
def ops(kafka_endpoint: KafkaEndpoint, topic_prefix: str):  # type: ignore[no-untyped-def]
    """Run one mentorlink-ops command in a thread (it runs its own event loop)."""
    env = {
        **kafka_endpoint.env(),
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "KAFKA_PARTITIONS": str(PARTITIONS),
        "COLUMNS": "300",  # rich tables unwrapped, so assertions see whole cells
    }

    async def invoke(*args: str) -> Result:
        return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)

    return invoke


async def test_topics_create_makes_every_topic_and_its_dlq_once(ops, settings) -> None:
    first = await ops("topics", "create")
    assert first.exit_code == 0, first.output
    assert f"{len(TOPICS) * 2} created" in first.output

    second = await ops("topics", "create")
    assert second.exit_code == 0, second.output
    assert "0 created" in second.output

    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        described = await admin.describe_topics([GOALS.dead_letter(settings.topic_prefix)])
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == PARTITIONS


async def test_topics_describe_shows_partitions_end_offsets_and_configs(ops, settings) -> None:
    assert (await ops("topics", "create")).exit_code == 0
    goals = GOALS.qualified(settings.topic_prefix)
    await _produce(settings, goals, [(b"k", b"{}", 0)] * 3)

    result = await ops("topics", "describe")

    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if f" {goals} " in line)
    cells = [cell.strip() for cell in row.split("│") if cell.strip()]
    assert cells[:6] == [goals, "0", cells[2], cells[2], cells[2], "3"]  # leader = replica = isr
    assert "min.insync.replicas=1" in row
    assert "missing" not in result.output


@pytest.mark.broker_feature("offsets_api")
async def test_lag_compares_committed_with_end_offsets_per_partition(ops, settings) -> None:
    assert (await ops("topics", "create")).exit_code == 0
    goals = GOALS.qualified(settings.topic_prefix)
    await _produce(settings, goals, [(b"k", b"{}", 0)] * 5)
    group = settings.group("matching.goals")
    await _commit(settings, group, TopicPartition(goals, 0), 2)

    result = await ops("lag", "--group", group)

    assert result.exit_code == 0, result.output
    rows = _rows(result.output, group)
    assert ["0", "2", "5", "3"] in [r[2:] for r in rows]  # partition, committed, end, lag
    assert ["1", "-", "0", "0"] in [r[2:] for r in rows]
    assert "total lag 3" in result.output

    everything = await ops("lag")  # default: every group with the prefix
    assert _rows(everything.output, group) == rows


async def test_dlq_list_shows_why_and_where_but_never_the_payload(ops, settings) -> None:
    assert (await ops("topics", "create")).exit_code == 0
    secret = b'{"email": "someone-private@example.org"}'
    await _dead_letter(settings, GOALS.qualified(settings.topic_prefix), b"mentee-7", secret, 0, 41)

    result = await ops("dlq", "list", GOALS.dead_letter(settings.topic_prefix))

    assert result.exit_code == 0, result.output
    assert "someone-private" not in result.output
    row = _rows(result.output, "0:0")[0]
    assert row[:4] == ["0:0", "mentee-7", "schema_violation", "payload.goal_id: missing"]
    assert row[4] == "matching"
    assert row[6] == f"{GOALS.qualified(settings.topic_prefix)}:0:41"


async def test_dlq_replay_republishes_selected_letters_once(ops, settings) -> None:
    assert (await ops("topics", "create")).exit_code == 0
    source, dlq = (
        PROFILES.qualified(settings.topic_prefix),
        PROFILES.dead_letter(settings.topic_prefix),
    )
    for offset in (10, 11, 12):
        await _dead_letter(settings, source, b"user-%d" % offset, b"body-%d" % offset, 1, offset)
    # The same failed message, dead-lettered by a second service: one replay covers both.
    await _dead_letter(settings, source, b"user-12", b"body-12", 1, 12, service="notifications")

    first = await ops("dlq", "replay", dlq, "--offset", "0:1")
    assert first.exit_code == 0, first.output
    assert "1 replayed" in first.output
    copies = await read_all(settings, source)
    assert [(c.partition, c.key, c.value) for c in copies] == [(1, b"user-11", b"body-11")]
    assert header(copies[0], "x-replayed-from") == f"{dlq}:0:1"
    assert header(copies[0], "x-dlq-reason") is None
    assert header(copies[0], "traceparent") == "00-trace-11"  # original headers kept

    again = await ops("dlq", "replay", dlq, "--partition", "0", "--offset", "1")
    assert again.exit_code == 0, again.output
    assert "0 replayed, 1 already replayed" in again.output

    everything = await ops("dlq", "replay", dlq, "--all")
    assert everything.exit_code == 0, everything.output
    assert "2 replayed, 2 already replayed" in everything.output
    copies = await read_all(settings, source)
    assert sorted(c.value for c in copies) == [b"body-10", b"body-11", b"body-12"]


async def test_dlq_replay_refuses_unknown_positions_and_ambiguous_offsets(ops, settings) -> None:
    assert (await ops("topics", "create")).exit_code == 0
    dlq = GOALS.dead_letter(settings.topic_prefix)

    unknown = await ops("dlq", "replay", dlq, "--offset", "1:99")
    assert unknown.exit_code == 1
    assert "not in" in unknown.output

    ambiguous = await ops("dlq", "replay", dlq, "--offset", "99")
    assert ambiguous.exit_code == 2
    assert "PARTITION:OFFSET" in ambiguous.output

    neither = await ops("dlq", "replay", dlq)
    assert neither.exit_code == 2


def _rows(output: str, first_cell: str) -> list[list[str]]:
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0] == first_cell:
            rows.append(cells)
    return rows


async def _produce(
    settings: KafkaSettings, topic: str, records: list[tuple[bytes, bytes, int]]
) -> None:
    producer = AIOKafkaProducer(**producer_kwargs(settings))
    await producer.start()
    try:
        for key, value, partition in records:
            await producer.send_and_wait(topic, value, key=key, partition=partition)
    finally:
        await producer.stop()


async def _commit(settings: KafkaSettings, group: str, tp: TopicPartition, offset: int) -> None:
    consumer = AIOKafkaConsumer(**client_kwargs(settings), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: offset})
    finally:
        await consumer.stop()


async def _dead_letter(
    settings: KafkaSettings,
    source: str,
    key: bytes,
    value: bytes,
    partition: int,
    offset: int,
    service: str = "matching",
) -> None:
    """What the dead-letter middleware publishes, built by the same code."""
    letter = DeadLetter(
        source_topic=source,
        partition=partition,
        offset=offset,
        key=key,
        value=value,
        reason="schema_violation",
        error="payload.goal_id: missing",
        service=service,
        original_headers={"traceparent": f"00-trace-{offset}"},
    )
    producer = AIOKafkaProducer(**producer_kwargs(settings))
    await producer.start()
    try:
        headers = [(k, v.encode()) for k, v in letter.headers().items()]
        await producer.send_and_wait(letter.topic, value, key=key, partition=0, headers=headers)
    finally:
        await producer.stop()
