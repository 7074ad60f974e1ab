"""Retention jobs on real PostgreSQL: old rows go in small batches, rows still needed stay,
rows a transaction holds are left for the next run, and the metrics say what was done."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import REGISTRY

from services.matching import bootstrap as matching
from services.notifications import bootstrap as notifications
from services.notifications.adapters.retention import retention_rules as notification_rules
from services.profile import bootstrap as profile
from services.profile.adapters.retention import retention_rules as profile_rules
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.db.retention import processed_events_rule, purge_expired, retention_loop
from shared.settings import DatabaseSettings, RetentionSettings
from shared.supervision import Heartbeat
from tests.support.polling import eventually

SETTINGS = RetentionSettings(processed_events_days=15, emails_days=30, link_responses_days=90)


async def schema_pool(database_url: str, schema: str, migrations: Path) -> asyncpg.Pool:
    pool = await create_pool(DatabaseSettings(database_url=database_url), schema)
    await apply_migrations(pool, schema, migrations)
    return pool


@pytest.fixture
async def pools(database_url: str) -> AsyncIterator[dict[str, asyncpg.Pool]]:
    pools = {
        "profile": await schema_pool(database_url, "profile", profile.MIGRATIONS),
        "matching": await schema_pool(database_url, "matching", matching.MIGRATIONS),
        "notifications": await schema_pool(database_url, "notifications", notifications.MIGRATIONS),
    }
    try:
        yield pools
    finally:
        for pool in pools.values():
            await pool.close()


async def add_processed(pool: asyncpg.Pool, age_days: float, count: int) -> None:
    await pool.executemany(
        "INSERT INTO processed_events (consumer, event_id, processed_at)"
        " VALUES ('c', $1, now() - make_interval(days => $2))",
        [(uuid.uuid4(), age_days) for _ in range(count)],
    )


async def add_email(pool: asyncpg.Pool, state: str, age_days: int) -> None:
    await pool.execute(
        "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id, proposal,"
        " state, updated_at) VALUES ($1, 'acme', 'u-ada', $2, 'm', '{}',"
        " $3, now() - make_interval(days => $4))",
        str(uuid.uuid4()),
        uuid.uuid4(),
        state,
        age_days,
    )


def deleted_total(service: str, table: str) -> float:
    labels = {"service": service, "table": table}
    return REGISTRY.get_sample_value("mentorlink_retention_rows_deleted_total", labels) or 0.0


async def test_processed_events_older_than_the_window_go_in_batches(
    pools: dict[str, asyncpg.Pool],
) -> None:
    pool = pools["matching"]
    await add_processed(pool, age_days=16, count=7)
    await add_processed(pool, age_days=14, count=3)  # within the window: a redelivery may come
    before = deleted_total("matching", "processed_events")

    deleted = await purge_expired(pool, "matching", [processed_events_rule(15)], batch_size=2)

    assert deleted == {"processed_events": 7}
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 3
    assert deleted_total("matching", "processed_events") - before == 7
    last_run = REGISTRY.get_sample_value(
        "mentorlink_retention_last_run_timestamp_seconds",
        {"service": "matching", "table": "processed_events"},
    )
    assert last_run is not None and last_run > 0


async def test_only_finished_emails_past_the_window_are_deleted(
    pools: dict[str, asyncpg.Pool],
) -> None:
    pool = pools["notifications"]
    for state in ("sent", "released", "failed", "suppressed", "superseded"):
        await add_email(pool, state, age_days=31)
    await add_email(pool, "sent", age_days=29)  # recent: the support log still shows it
    await add_email(pool, "queued", age_days=31)  # still to be sent, however old
    await add_processed(pool, age_days=20, count=2)

    deleted = await purge_expired(pool, "notifications", notification_rules(SETTINGS), 2)

    assert deleted == {"processed_events": 2, "emails": 5}
    left = sorted(tuple(r) for r in await pool.fetch("SELECT state FROM emails"))
    assert left == [("queued",), ("sent",)]


async def test_answered_links_go_after_their_window(pools: dict[str, asyncpg.Pool]) -> None:
    pool = pools["profile"]
    for age in (91, 89):
        await pool.execute(
            "INSERT INTO link_responses (tenant_id, proposal_id, mentor_id, action, mentee_id,"
            " responded_at) VALUES ('acme', $1, 'u-grace', 'accept', 'u-ada',"
            " now() - make_interval(days => $2))",
            uuid.uuid4(),
            age,
        )

    deleted = await purge_expired(pool, "profile", profile_rules(SETTINGS), 100)

    assert deleted == {"processed_events": 0, "link_responses": 1}
    assert await pool.fetchval("SELECT count(*) FROM link_responses") == 1


async def test_rows_a_transaction_holds_are_left_for_the_next_run(
    pools: dict[str, asyncpg.Pool],
) -> None:
    pool = pools["matching"]
    await add_processed(pool, age_days=30, count=3)
    async with pool.acquire() as holder, holder.transaction():
        await holder.execute("SELECT 1 FROM processed_events ORDER BY event_id LIMIT 1 FOR UPDATE")
        deleted = await purge_expired(pool, "matching", [processed_events_rule(15)], 10)
        assert deleted == {"processed_events": 2}  # did not wait for the held row
    deleted = await purge_expired(pool, "matching", [processed_events_rule(15)], 10)
    assert deleted == {"processed_events": 1}


async def test_the_loop_runs_a_pass_at_start_and_beats_its_heartbeat(
    pools: dict[str, asyncpg.Pool],
) -> None:
    pool = pools["matching"]
    await add_processed(pool, age_days=30, count=3)
    beat = Heartbeat()
    loop = retention_loop(pool, "matching", [processed_events_rule(15)], 3600, 2)
    task = asyncio.create_task(loop(beat))
    try:

        async def purged_then_asleep() -> bool:
            # The rows are gone once the last delete commits; the loop announces its sleep
            # until the next run (not stuck: silent_for() <= 0) only after the pass returns.
            gone = await pool.fetchval("SELECT count(*) FROM processed_events") == 0
            return gone and beat.silent_for() <= 0

        await eventually(purged_then_asleep, timeout=30, what="the first pass, then its sleep")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
