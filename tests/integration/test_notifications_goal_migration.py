"""Migration 0008 re-keys the notifications rows per goal (ADR 0012): an email's goal is its
proposal's (or its relationship's), a digest takes the goal of its mentee's newest proposal
email, and a digest with no email to say which goal becomes the goal `default`."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.notifications import bootstrap
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings

PER_GOAL = "0008_per_goal_digests.sql"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "notifications")
    yield pool
    await pool.close()


async def _email(
    conn: asyncpg.Connection, mentee: str, goal: str, version: int, state: str
) -> None:
    proposal = {"mentee_id": mentee, "goal_id": goal, "ranking_version": version, "mentors": []}
    await conn.execute(
        "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id,"
        " proposal, ranking_version, state) VALUES ($1, 'acme', $2, $3, $4, $5, $6, $7)",
        f"k-{uuid.uuid4()}",
        mentee,
        uuid.uuid4(),
        f"<{uuid.uuid4()}@test>",
        json.dumps(proposal),
        version,
        state,
    )


async def migrated_before_per_goal(pool: asyncpg.Pool, tmp_path: Path) -> None:
    """Notifications' schema as it was before several goals (every migration before 0008)."""
    before = tmp_path / "migrations"
    before.mkdir()
    for sql in sorted(bootstrap.MIGRATIONS.glob("*.sql")):
        if sql.name < PER_GOAL:
            shutil.copy(sql, before / sql.name)
    await apply_migrations(pool, "notifications", before)


async def test_existing_rows_keep_the_goal_of_the_proposal_they_hold(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await migrated_before_per_goal(pool, tmp_path)
    async with pool.acquire() as conn:
        await _email(conn, "u-ada", "career", 3, "sent")
        await _email(conn, "u-ada", "platform", 7, "queued")  # her newest: the digest's goal
        await _email(conn, "u-bob", "default", 1, "sent")
        await conn.execute(
            "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id, kind,"
            " lifecycle, state) VALUES ('k-life', 'acme', 'u-grace', $1, '<l@test>',"
            " 'mentor_request', $2, 'queued')",
            uuid.uuid4(),
            json.dumps({"goal_id": "platform", "kind": "mentor_request"}),
        )
        await conn.executemany(
            "INSERT INTO mentee_digests (tenant_id, mentee_id, ranking_version)"
            " VALUES ('acme', $1, $2)",
            [("u-ada", 7), ("u-cy", 2)],  # no email says which goal u-cy's digest was for
        )

    assert await apply_migrations(pool, "notifications", bootstrap.MIGRATIONS) == [PER_GOAL]
    async with pool.acquire() as conn:
        emails = await conn.fetch("SELECT mentee_id, goal_id FROM emails ORDER BY id")
        digests = await conn.fetch(
            "SELECT mentee_id, goal_id, ranking_version FROM mentee_digests ORDER BY 1"
        )
        # one waiting proposal email per goal now: u-ada's other goal may wait beside it
        await _email(conn, "u-ada", "career", 8, "queued")
        with pytest.raises(asyncpg.UniqueViolationError):
            await _email(conn, "u-ada", "platform", 9, "queued")
    assert [tuple(r) for r in emails] == [
        ("u-ada", "career"),
        ("u-ada", "platform"),
        ("u-bob", "default"),
        ("u-grace", "platform"),
    ]
    assert [tuple(r) for r in digests] == [("u-ada", "platform", 7), ("u-cy", "default", 2)]
