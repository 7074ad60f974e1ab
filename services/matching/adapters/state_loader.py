"""Restore engines from PostgreSQL: stored lists come back as they were, nothing is re-scored."""

from __future__ import annotations

from collections.abc import Collection

import asyncpg

from services.matching.adapters.postgres import PARTITION_LOCK
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import Restorer, TenantEngine
from services.matching.domain.people import Goal, Person


class PostgresStateLoader:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def load(
        self, partitions: Collection[int], config: EngineConfig, tenant_id: str | None = None
    ) -> dict[str, TenantEngine]:
        return await load_engines(self._pool, partitions, config, tenant_id)


async def load_engines(
    pool: asyncpg.Pool,
    partitions: Collection[int],
    config: EngineConfig,
    tenant_id: str | None = None,
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
        for row in await conn.fetch(
            "SELECT p.tenant_id, p.features, coalesce(l.accepted, 0) AS accepted FROM people p"
            " LEFT JOIN mentor_load l ON l.tenant_id = p.tenant_id AND l.mentor_id = p.user_id"
            " WHERE p.is_mentor AND ($1::text IS NULL OR p.tenant_id = $1)",
            tenant_id,
        ):
            restorer(row["tenant_id"]).mentor(Person.from_json(row["features"]), row["accepted"])
        people = {
            (r["tenant_id"], r["user_id"]): (Person.from_json(r["features"]), r["partition"])
            for r in await conn.fetch(
                "SELECT tenant_id, user_id, partition, features FROM people"
                " WHERE partition = ANY($1)"
                " AND ($2::text IS NULL OR tenant_id = $2)",
                owned,
                tenant_id,
            )
        }
        goals = {
            (r["tenant_id"], r["mentee_id"]): (Goal.from_json(r["goal"]), r["partition"])
            for r in await conn.fetch(
                "SELECT tenant_id, mentee_id, partition, goal FROM goals"
                " WHERE partition = ANY($1)"
                " AND ($2::text IS NULL OR tenant_id = $2)",
                owned,
                tenant_id,
            )
        }
        for key in sorted(people.keys() | goals.keys()):
            person, partition = people.get(key, (None, -1))
            goal, goal_partition = goals.get(key, (None, partition))
            restorer(key[0]).mentee(person, goal, max(partition, goal_partition))
        for r in await conn.fetch(
            "SELECT tenant_id, mentee_id, mentor_id, partition FROM pairs"
            " WHERE partition = ANY($1) AND state <> 'accept_parked'"
            " AND ($2::text IS NULL OR tenant_id = $2)",
            owned,
            tenant_id,
        ):
            restorer(r["tenant_id"]).exclusion(r["mentee_id"], r["mentor_id"], r["partition"])
        for r in await conn.fetch(
            "SELECT tenant_id, mentor_id, partition, mentee_ids, scores, truncated"
            " FROM mentor_lists WHERE partition = ANY($1)"
            " AND ($2::text IS NULL OR tenant_id = $2)",
            owned,
            tenant_id,
        ):
            entries = list(zip(r["mentee_ids"], r["scores"], strict=True))
            restorer(r["tenant_id"]).mentor_list(
                r["mentor_id"], r["partition"], entries, r["truncated"]
            )
        for r in await conn.fetch(
            "SELECT tenant_id, mentee_id, mentor_ids FROM proposals WHERE partition = ANY($1)"
            " AND ($2::text IS NULL OR tenant_id = $2)",
            owned,
            tenant_id,
        ):
            restorer(r["tenant_id"]).proposal(r["mentee_id"], r["mentor_ids"])
    return {tenant: r.finish() for tenant, r in restorers.items()}
