"""Fairness between tenants on the ingress topic (ADR 0006): one tenant's flood does not make
another tenant's command wait for the whole flood. Real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest

from services.profile.adapters.ingress_queue import NEXT_ROUND, PostgresIngressQueue
from services.profile.service_layer.ingress_queue import Origin, StagedCommand
from shared.contracts.topics import INGRESS
from shared.kafka.producer import kafka_producer
from tests.integration.test_profile_api import RunningProfile, running_profile
from tests.support.people import ingress_upsert, mentor_body
from tests.support.polling import eventually

FLOOD = 1500
PER_TENANT = 4


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint):
    async with running_profile(
        kafka_endpoint, postgres_endpoint, ingress_per_tenant_per_round=PER_TENANT
    ) as running:
        yield running


async def _applied(conn: asyncpg.Connection, tenant: str) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM profile.profiles WHERE tenant_id = $1", tenant)
    )


async def _staged_gauge(profile: RunningProfile) -> float:
    metrics = (await profile.http.get("/metrics")).text
    (line,) = [m for m in metrics.splitlines() if m.startswith("mentorlink_ingress_staged{")]
    return float(line.rsplit(" ", 1)[1])


async def test_a_flood_on_one_partition_does_not_hold_back_another_tenants_command(
    profile: RunningProfile,
) -> None:
    """Every command goes to partition 0: before fairness, the quiet tenant's command came
    after the whole flood (all FLOOD applied first). Now it is applied in the first round after
    its poll was staged, while most of the flood still waits."""
    flood, quiet = f"flood-{uuid.uuid4().hex[:6]}", f"quiet-{uuid.uuid4().hex[:6]}"
    await profile.key_for(flood)
    await profile.key_for(quiet)
    topic = INGRESS.qualified(profile.kafka.topic_prefix)
    async with kafka_producer(profile.kafka, "fairness-test") as producer:
        sent = []
        for n in range(FLOOD):
            command = ingress_upsert(f"u-{n}", flood, body=mentor_body(f"Flood {n}"))
            sent.append(await producer.send(topic, json.dumps(command).encode(), b"u-%d" % n, 0))
        quiet_command = ingress_upsert("u-q", quiet, body=mentor_body("Quiet"))
        sent.append(await producer.send(topic, json.dumps(quiet_command).encode(), b"u-q", 0))
        await asyncio.gather(*sent)

    conn = await asyncpg.connect(profile.database_url)
    try:
        await eventually(lambda: _applied(conn, quiet), timeout=120, what="the quiet command")
        ahead = await conn.fetchval(
            "SELECT count(*) FROM profile.profiles WHERE tenant_id = $1 AND updated_at <="
            " (SELECT updated_at FROM profile.profiles WHERE tenant_id = $2)",
            flood,
            quiet,
        )
        assert ahead < FLOOD // 2, f"{ahead} of {FLOOD} flood commands were applied before"
        assert await _staged_gauge(profile) > 0  # the rest of the flood, staged, waiting

        async def flood_applied() -> bool:
            return await _applied(conn, flood) == FLOOD

        await eventually(flood_applied, timeout=180, what="the whole flood")  # none lost
        assert await _staged_gauge(profile) == 0
    finally:
        await conn.close()


def _staged(tenant: str, user: str, offset: int) -> StagedCommand:
    origin = Origin("ingress", 0, offset, user.encode(), b"{}", {})
    return StagedCommand(tenant, user, uuid.uuid4(), origin)


async def test_a_round_interleaves_tenants_and_keeps_each_users_order(
    profile: RunningProfile,
) -> None:
    """The bound, structurally: a tenant with a staged command is in the next round, behind at
    most PER_TENANT - 1 commands of each other tenant; one user's commands never share a
    round, so they apply in order."""
    pool = await asyncpg.create_pool(
        profile.database_url, server_settings={"search_path": "profile"}, min_size=1, max_size=1
    )
    try:
        async with pool.acquire() as conn:
            await conn.execute(
                "CREATE TEMP TABLE ingress_queue (LIKE profile.ingress_queue"
                " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"
            )
        queue = PostgresIngressQueue(pool)
        flood = [_staged("a", f"a-{n % 6}", n) for n in range(30)]  # users a-0..a-5, 5 each
        await queue.stage([*flood, _staged("b", "b-1", 30), _staged("b", "b-1", 31)])
        round_ = await queue.next_round(PER_TENANT)
    finally:
        await pool.close()
    assert [(c.tenant_id, c.user_id) for c in round_] == [
        ("a", "a-0"),
        ("b", "b-1"),  # second in the round, whatever the flood ahead of it
        ("a", "a-1"),
        ("a", "a-2"),
        ("a", "a-3"),
    ]
    assert round_[1].origin.offset == 30  # b-1's first command; its second waits a round


async def test_a_round_reads_a_few_rows_of_a_deep_queue(profile: RunningProfile) -> None:
    """A company's onboarding stages one command per person. A round that sorted the whole
    queue to take PER_TENANT of it made the onboarding quadratic in the company's size; the
    round reads about PER_TENANT rows per tenant (and the tenants' index), however deep."""
    depth = 3000
    conn = await asyncpg.connect(profile.database_url, server_settings={"search_path": "profile"})
    try:
        await conn.execute(
            "CREATE TEMP TABLE ingress_queue (LIKE profile.ingress_queue"
            " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"
        )
        await conn.execute(
            "INSERT INTO ingress_queue (tenant_id, user_id, command_id, source_topic,"
            " source_partition, source_offset, source_value)"
            " SELECT CASE WHEN n % 100 = 0 THEN 'small' ELSE 'company' END, 'u-' || (n % 2900),"
            " gen_random_uuid(), 'ingress', 0, n, '{}' FROM generate_series(1, $1) n",
            depth,
        )
        await conn.execute("ANALYZE ingress_queue")
        (plan,) = json.loads(
            await conn.fetchval(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {NEXT_ROUND}", PER_TENANT, column=0
            )
        )
        taken = await conn.fetch(NEXT_ROUND, PER_TENANT)
    finally:
        await conn.close()
    assert [(r["tenant_id"], r["turn"]) for r in taken] == [
        ("company", 1), ("small", 1), ("company", 2), ("small", 2),
        ("company", 3), ("small", 3), ("company", 4), ("small", 4),
    ]  # fmt: skip
    read = _rows_read(plan["Plan"], "ingress_queue")
    assert read < 200, f"a round read {read} rows of a queue of {depth}"


def _rows_read(node: dict[str, Any], table: str) -> float:
    own = node["Actual Rows"] * node["Actual Loops"] if node.get("Relation Name") == table else 0
    return own + sum(_rows_read(child, table) for child in node.get("Plans", ()))
