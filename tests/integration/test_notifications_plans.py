"""Notifications' batch statements read the rows of their batch, not the whole emails table, once
emails has filled from empty (shared/db/pool.py: planned for each execution's arguments).

A service starts against an empty emails table and prepares its statements at once. With
PostgreSQL's default plan cache, a prepared statement switches to one generic plan after five
executions and keeps it until an ANALYZE: the plans that suited the empty table (a sequential
scan, or every queued email hashed) then read the whole table on each execution. In an
onboarding run that was two thirds of PostgreSQL's CPU. Each test prepares a statement as the
service's pool does, runs it six times on the empty table, fills the table without an ANALYZE,
and counts the emails rows its next execution reads (EXPLAIN ANALYZE, rolled back).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from services.notifications import bootstrap
from services.notifications.adapters.claims_sql import MARK_SENT
from services.notifications.adapters.proposals_sql import SETTLE_DIGESTS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.db.types import DbConnection
from shared.settings import DatabaseSettings

FILLED = 5_000  # emails rows once the table has filled
BATCH = 3  # the rows one execution is about


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """One connection, set up as the service's pools are."""
    settings = DatabaseSettings(database_url=database_url, db_pool_min=1, db_pool_max=1)
    created = await create_pool(settings, "notifications", bootstrap.SPEC.custom_plans)
    await apply_migrations(created, "notifications", bootstrap.MIGRATIONS)
    try:
        yield created
    finally:
        await created.close()


async def fill(conn: DbConnection, state: str) -> None:
    """FILLED emails rows (no ANALYZE follows, as none runs within a minute of a start)."""
    await conn.execute(
        "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id,"
        " proposal, state, attempts)"
        " SELECT 'k' || n, 't', 'mentee-' || n, gen_random_uuid(), 'm' || n,"
        ' \'{"goal_id": "default"}\'::jsonb, $2, 1 FROM generate_series(1, $1) AS n',
        FILLED,
        state,
    )


def rows_read(plan: dict[str, Any], relation: str) -> int:
    """The rows every scan of `relation` in the plan looked at (kept and filtered out)."""

    def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", ()):
            yield from nodes(child)

    return sum(
        int((node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"])
        for node in nodes(plan["Plan"])
        if node.get("Relation Name") == relation and node["Node Type"].endswith("Scan")
    )


async def explained(conn: DbConnection, execute: str) -> dict[str, Any]:
    """The plan of one execution of a prepared statement, its changes rolled back."""
    tx = conn.transaction()
    await tx.start()
    try:
        found = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {execute}")
    finally:
        await tx.rollback()
    plans: list[dict[str, Any]] = json.loads(found) if isinstance(found, str) else found
    return plans[0]


async def test_marking_a_batch_sent_reads_that_batch(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(f"PREPARE mark_sent(bigint[], int[]) AS {MARK_SENT}")
        for _ in range(6):  # a default plan cache takes its generic plan from the sixth on
            await conn.execute("EXECUTE mark_sent('{1,2,3}', '{1,1,1}')")
        await fill(conn, "sending")
        plan = await explained(conn, "EXECUTE mark_sent('{10,20,30}', '{1,1,1}')")
    assert rows_read(plan, "emails") <= BATCH, plan


async def test_settling_a_polls_digests_reads_that_polls_emails(pool: asyncpg.Pool) -> None:
    """The queued emails a poll's newer proposals replace are found by the poll's goals."""
    types = "text[], text[], integer[], text[], text[], uuid[], text[], text[]"
    mentees = "'{mentee-10,mentee-20,mentee-30}'"
    arguments = (
        f"'{{t,t,t}}', {mentees}, '{{2,2,2}}', '{{t,t,t}}', {mentees},"
        " '{00000000-0000-0000-0000-000000000001,00000000-0000-0000-0000-000000000002,"
        "00000000-0000-0000-0000-000000000003}',"
        " '{default,default,default}', '{default,default,default}'"
    )
    async with pool.acquire() as conn:
        await conn.execute(f"PREPARE settle({types}) AS {SETTLE_DIGESTS}")
        for _ in range(6):
            await conn.execute(f"EXECUTE settle({arguments})")
        await fill(conn, "queued")
        plan = await explained(conn, f"EXECUTE settle({arguments})")
    assert rows_read(plan, "emails") <= BATCH, plan
