"""Fairness between tenants on the ingress topic (ADR 0006): one tenant's flood does not make
another tenant's command wait for the whole flood. Real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest

from services.profile.adapters.ingress_queue import PostgresIngressQueue
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
