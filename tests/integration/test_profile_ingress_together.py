"""The ingress worker applies the rounds of a flood in one transaction (ADR 0006), and each
staged command still succeeds or fails alone. Real PostgreSQL."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import asyncpg

from services.profile.adapters.api_keys import ApiKeys
from services.profile.adapters.ingress_queue import PostgresIngressQueue
from services.profile.adapters.postgres import PostgresUnitOfWork
from services.profile.entrypoints.ingress import ingress_applier, parse_staged
from services.profile.service_layer.ingress import INGRESS_CONSUMER
from services.profile.service_layer.ingress_queue import IngressWorker, StagedCommand
from tests.integration.test_profile_store_port import pool  # noqa: F401 - the fixture
from tests.support.people import ingress_set_goal, ingress_upsert, mentee_body

TENANT = "acme"


def _staged(command: dict[str, Any], offset: int) -> StagedCommand:
    record = SimpleNamespace(
        topic="t.ingress",
        partition=0,
        offset=offset,
        key=command["user_id"].encode(),
        value=json.dumps(command).encode(),
        headers=[],
        timestamp=None,
    )
    return parse_staged(record)


async def test_a_flood_commits_together_and_a_refused_command_leaves_nothing_behind(
    pool: asyncpg.Pool,  # noqa: F811 - the imported fixture
) -> None:
    """Two rounds of four (per_tenant=4) in one drain: every applied row carries the same
    `now()` (its transaction's start), where a transaction per command gave each its own. A
    goal for someone unknown is refused in the middle: its savepoint rolls back its
    idempotency record, it is dead-lettered, and its neighbours apply."""
    await ApiKeys(pool).create(TENANT)
    commands = [ingress_upsert(f"u-{n}", TENANT, body=mentee_body(f"Mentee {n}")) for n in range(6)]
    refused = ingress_set_goal("nobody", TENANT)
    commands += [refused, ingress_set_goal("u-0", TENANT)]  # u-0's goal waits a round
    queue = PostgresIngressQueue(pool)
    await queue.stage([_staged(c, offset) for offset, c in enumerate(commands)])
    worker = IngressWorker(
        queue, ingress_applier(PostgresUnitOfWork(pool, "t.")), "profile", per_tenant=4
    )

    assert await worker.drain() == len(commands)

    async with pool.acquire() as conn:
        profiles = await conn.fetch("SELECT updated_at AS tx FROM profiles")
        goals = await conn.fetch("SELECT mentee_id, updated_at AS tx FROM goals")
        recorded = await conn.fetchval(
            "SELECT count(*) FROM processed_events WHERE consumer = $1 AND event_id = $2",
            INGRESS_CONSUMER,
            refused["command_id"],
        )
        letters = await conn.fetch("SELECT topic, key FROM outbox WHERE topic LIKE '%dlq'")
    assert len(profiles) == 6
    assert [g["mentee_id"] for g in goals] == ["u-0"]
    assert {r["tx"] for r in [*profiles, *goals]} == {goals[0]["tx"]}, "one transaction"
    assert recorded == 0
    assert [r["key"] for r in letters] == [b"nobody"]
    assert await queue.depth() == 0
