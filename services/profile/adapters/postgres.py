"""asyncpg implementation of the profile service's unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSetPayload
from shared.contracts.profiles import ProfilePayload
from shared.contracts.topics import TopicSpec
from shared.db.types import DbConnection
from shared.outbox import add_to_outbox


class PostgresProfileTransaction:
    def __init__(self, conn: DbConnection, topic_prefix: str) -> None:
        self._conn = conn
        self._prefix = topic_prefix

    async def get_profile(
        self, tenant_id: str, user_id: str, *, for_update: bool = False
    ) -> ProfilePayload | None:
        lock = " FOR UPDATE" if for_update else ""
        raw = await self._conn.fetchval(
            f"SELECT profile FROM profiles WHERE tenant_id = $1 AND user_id = $2{lock}",  # noqa: S608
            tenant_id,
            user_id,
        )
        return ProfilePayload.model_validate_json(raw) if raw else None

    async def save_profile(self, tenant_id: str, profile: ProfilePayload) -> None:
        await self._conn.execute(
            "INSERT INTO profiles (tenant_id, user_id, version, profile) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (tenant_id, user_id) DO UPDATE"
            " SET version = EXCLUDED.version, profile = EXCLUDED.profile, updated_at = now()",
            tenant_id,
            profile.user_id,
            profile.version,
            profile.model_dump_json(),
        )

    async def get_goal(
        self, tenant_id: str, mentee_id: str, *, for_update: bool = False
    ) -> GoalSetPayload | None:
        lock = " FOR UPDATE" if for_update else ""
        raw = await self._conn.fetchval(
            f"SELECT goal FROM goals WHERE tenant_id = $1 AND mentee_id = $2{lock}",  # noqa: S608
            tenant_id,
            mentee_id,
        )
        return GoalSetPayload.model_validate_json(raw) if raw else None

    async def save_goal(self, tenant_id: str, goal: GoalSetPayload) -> None:
        await self._conn.execute(
            "INSERT INTO goals (tenant_id, mentee_id, version, goal) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (tenant_id, mentee_id) DO UPDATE"
            " SET version = EXCLUDED.version, goal = EXCLUDED.goal, updated_at = now()",
            tenant_id,
            goal.mentee_id,
            goal.version,
            goal.model_dump_json(),
        )

    async def publish(self, topic: TopicSpec, event: EventEnvelope) -> None:
        await add_to_outbox(self._conn, topic.qualified(self._prefix), event)


class PostgresUnitOfWork:
    def __init__(self, pool: asyncpg.Pool, topic_prefix: str) -> None:
        self._pool = pool
        self._prefix = topic_prefix

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresProfileTransaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PostgresProfileTransaction(conn, self._prefix)
