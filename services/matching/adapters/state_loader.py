"""Restore engines from PostgreSQL: stored lists come back as they were, nothing is re-scored."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Collection, Iterator
from contextlib import contextmanager

import asyncpg

from services.matching.adapters.postgres import PARTITION_LOCK, relationship
from services.matching.adapters.stored_people import goal_from_json, person_from_json
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import Restorer, TenantEngine
from services.matching.domain.people import Person

# Rows are read through cursors, so that a restore never holds every stored row at once.
ROWS_PER_FETCH = 2000


# Owned people, then owned goals: two scans in storage order. Joining them in the query meant
# sorting every row (to disk, at scale) before the first came back; the engine joins them instead,
# as each goal finds its mentee's profile restored a moment before.
PEOPLE = """
SELECT tenant_id, user_id, version, is_mentor, features, partition FROM people
WHERE partition = ANY($1) AND ($2::text IS NULL OR tenant_id = $2)
"""
GOALS = """
SELECT tenant_id, goal, partition FROM goals
WHERE partition = ANY($1) AND ($2::text IS NULL OR tenant_id = $2) AND NOT closed
"""
RELATIONSHIPS = """
SELECT tenant_id, partition, request_id, mentee_id, mentor_id, goal_id, state, version,
never_again FROM relationships
WHERE partition = ANY($1) AND ($2::text IS NULL OR tenant_id = $2)
"""

# Exclusive: after the last transaction of each partition's previous owner (ascending, as
# every holder takes them).
LOCK_ALL = "SELECT pg_advisory_xact_lock($1, p) FROM unnest($2::int[]) AS p"
CLAIM = """
WITH previous AS (
    SELECT partition, owner FROM partition_owners WHERE partition = ANY($1)
), taken AS (
    INSERT INTO partition_owners (partition, owner) SELECT unnest($1::int[]), $2
    ON CONFLICT (partition) DO UPDATE SET owner = excluded.owner, taken_at = now()
)
SELECT partition, owner AS previous FROM previous
"""


class PostgresStateLoader:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def load(
        self, partitions: Collection[int], config: EngineConfig, tenant_id: str | None = None
    ) -> dict[str, TenantEngine]:
        return await load_engines(self._pool, partitions, config, tenant_id)

    async def claim(self, partitions: Collection[int], owner: str) -> frozenset[int]:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(LOCK_ALL, PARTITION_LOCK, sorted(partitions))
            rows = await conn.fetch(CLAIM, sorted(partitions), owner)
        return frozenset(r["partition"] for r in rows if r["previous"] == owner)


@contextmanager
def collections_paused() -> Iterator[None]:
    """Everything a restore allocates lives as long as the engine: collecting while it builds
    millions of objects only walks them again and again. A restore that completes freezes
    what it built (as handlers.keep_out_of_collections does) before collections resume, so
    that the first allocation after it does not walk all of it once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


async def load_engines(
    pool: asyncpg.Pool,
    partitions: Collection[int],
    config: EngineConfig,
    tenant_id: str | None = None,
) -> dict[str, TenantEngine]:
    with collections_paused():
        return await _load_engines(pool, partitions, config, tenant_id)


async def _load_engines(
    pool: asyncpg.Pool,
    partitions: Collection[int],
    config: EngineConfig,
    tenant_id: str | None,
) -> dict[str, TenantEngine]:
    owned = sorted(partitions)
    restorers: dict[str, Restorer] = {}

    def restorer(tenant: str) -> Restorer:
        if tenant not in restorers:
            restorers[tenant] = Restorer(TenantEngine(config))
        return restorers[tenant]

    async with pool.acquire() as conn, conn.transaction():
        # Wait for a previous owner's last transaction on these partitions, and keep writers out
        # while reading: the rows of an owned partition only change under its shared lock.
        for partition in owned:
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", PARTITION_LOCK, partition)
        async for row in conn.cursor(
            "SELECT tenant_id, features FROM people"
            " WHERE is_mentor AND ($1::text IS NULL OR tenant_id = $1)",
            tenant_id,
            prefetch=ROWS_PER_FETCH,
        ):
            restorer(row["tenant_id"]).mentor(person_from_json(row["features"]))
        async for r in conn.cursor(PEOPLE, owned, tenant_id, prefetch=ROWS_PER_FETCH):
            into = restorer(r["tenant_id"])
            into.person(_person(r, into.engine), r["partition"])
        for r in await conn.fetch(RELATIONSHIPS, owned, tenant_id):
            restorer(r["tenant_id"]).relationship(relationship(r), r["partition"])
        async for r in conn.cursor(GOALS, owned, tenant_id, prefetch=ROWS_PER_FETCH):
            restorer(r["tenant_id"]).goal(goal_from_json(r["goal"]), r["partition"])
        for r in await conn.fetch(
            "SELECT tenant_id, mentee_id, mentor_id, partition FROM pairs"
            " WHERE partition = ANY($1) AND ($2::text IS NULL OR tenant_id = $2)",
            owned,
            tenant_id,
        ):
            restorer(r["tenant_id"]).exclusion(r["mentee_id"], r["mentor_id"], r["partition"])
        # The lists of the partitions other instances own count toward each mentor's
        # tenant-wide exposure cap: their best entries come first (Restorer's order).
        async for r in conn.cursor(
            "SELECT tenant_id, mentor_id, partition, mentee_ids, scores FROM mentor_lists"
            " WHERE NOT partition = ANY($1) AND ($2::text IS NULL OR tenant_id = $2)",
            owned,
            tenant_id,
            prefetch=ROWS_PER_FETCH,
        ):
            entries = list(zip(r["mentee_ids"], r["scores"], strict=True))
            restorer(r["tenant_id"]).remote_list(r["mentor_id"], r["partition"], entries)
        async for r in conn.cursor(
            "SELECT tenant_id, mentor_id, partition, mentee_ids, scores, truncated"
            " FROM mentor_lists WHERE partition = ANY($1)"
            " AND ($2::text IS NULL OR tenant_id = $2)",
            owned,
            tenant_id,
            prefetch=ROWS_PER_FETCH,
        ):
            entries = list(zip(r["mentee_ids"], r["scores"], strict=True))
            restorer(r["tenant_id"]).mentor_list(
                r["mentor_id"], r["partition"], entries, r["truncated"]
            )
        for r in await conn.fetch(
            "SELECT tenant_id, mentee_id, goal_id, mentor_ids FROM proposals"
            " WHERE partition = ANY($1)"
            " AND ($2::text IS NULL OR tenant_id = $2)",
            owned,
            tenant_id,
        ):
            restorer(r["tenant_id"]).proposal(r["mentee_id"], r["goal_id"], r["mentor_ids"])
    # The longest step without a query (every goal ranked again): in a thread, so the event
    # loop still sends the consumer's heartbeats. Nothing else sees these engines yet.
    return {tenant: await asyncio.to_thread(r.finish) for tenant, r in restorers.items()}


def _person(row: asyncpg.Record, engine: TenantEngine) -> Person:
    """A mentor restored a moment ago is the same row: share that object, parse nothing."""
    if row["is_mentor"]:
        mentor = engine.mentor(row["user_id"])
        if mentor is not None and mentor.version == row["version"]:
            return mentor
    return person_from_json(row["features"])
