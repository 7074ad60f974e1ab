"""asyncpg implementation of the profile service's unit of work."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from services.profile.adapters.postgres_relationships import (
    PostgresRelationships,
    erase_relationships,
)
from services.profile.adapters.postgres_requests import PostgresRequestRecords
from services.profile.adapters.together import outbox_on
from services.profile.service_layer.unit_of_work import ProfileQuery, StoredGoal
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import DEFAULT_GOAL_ID, ClosingReason, GoalSetPayload
from shared.contracts.profiles import ProfilePayload
from shared.contracts.topics import TopicSpec
from shared.db.types import DbConnection
from shared.erasure import ErasureKeys, PostgresErasureLog
from shared.outbox import OutboxBatch
from shared.settings import ErasureSettings


def _with_lock(query: str) -> dict[bool, str]:
    """The query as is, and with FOR UPDATE (a fixed text either way: nothing interpolated)."""
    return {False: query, True: f"{query} FOR UPDATE"}


_PROFILE = _with_lock("SELECT profile FROM profiles WHERE tenant_id = $1 AND user_id = $2")
_PROFILES = _with_lock(
    "SELECT user_id, profile FROM profiles WHERE tenant_id = $1 AND user_id = ANY($2)"
    " ORDER BY user_id"
)
# Any number of profiles in one statement (one execution on the server, where a row each
# cost one); a person at most once (ON CONFLICT DO UPDATE refuses to touch a row twice).
_SAVE_PROFILES = (
    "INSERT INTO profiles (tenant_id, user_id, version, profile)"
    " SELECT $1, user_id, version, profile::jsonb"
    " FROM unnest($2::text[], $3::int[], $4::text[]) AS row_(user_id, version, profile)"
    " ON CONFLICT (tenant_id, user_id) DO UPDATE"
    " SET version = EXCLUDED.version, profile = EXCLUDED.profile, updated_at = now()"
)
# The mentee's goals (none: one row of NULLs) and the tenant's goal limit in one statement
# (`tenant_goal_limit`'s read, joined to every row).
GOALS_AND_LIMIT = (
    "SELECT g.goal, g.closed, s.max_active_goals FROM (SELECT 1) AS one"
    " LEFT JOIN goals g ON g.tenant_id = $1 AND g.mentee_id = $2"
    " LEFT JOIN tenant_settings s ON s.tenant_id = $1"
    " ORDER BY g.goal_id"
)
_GOAL = _with_lock(
    "SELECT goal FROM goals WHERE tenant_id = $1 AND mentee_id = $2 AND goal_id = $3"
    " AND closed IS NULL"
)


def _document_filter(query: ProfileQuery) -> str:
    """A jsonb containment filter (served by the GIN index) for role and skill."""
    document: dict[str, Any] = {}
    if query.role:
        document["roles"] = [query.role]
    if query.skill:
        document["skills"] = [{"name": query.skill}]
    return json.dumps(document)


class PostgresProfileTransaction(PostgresRequestRecords):
    def __init__(
        self, conn: DbConnection, topic_prefix: str, keys: ErasureKeys, outbox: OutboxBatch
    ) -> None:
        super().__init__(conn, keys)
        self._prefix = topic_prefix
        self.erasures = PostgresErasureLog(conn, keys)
        self.relationships = PostgresRelationships(conn)
        # written when the transaction is about to commit (together.outbox_on)
        self._outbox = outbox

    async def get_profile(
        self, tenant_id: str, user_id: str, *, for_update: bool = False
    ) -> ProfilePayload | None:
        raw = await self._conn.fetchval(
            _PROFILE[for_update],
            tenant_id,
            user_id,
        )
        return ProfilePayload.model_validate_json(raw) if raw else None

    async def get_profiles(
        self, tenant_id: str, user_ids: Sequence[str], *, for_update: bool = False
    ) -> dict[str, ProfilePayload]:
        rows = await self._conn.fetch(
            _PROFILES[for_update],
            tenant_id,
            list(user_ids),
        )
        return {r["user_id"]: ProfilePayload.model_validate_json(r["profile"]) for r in rows}

    async def save_profile(self, tenant_id: str, profile: ProfilePayload) -> None:
        await self.save_profiles(tenant_id, [profile])

    async def save_profiles(self, tenant_id: str, profiles: Sequence[ProfilePayload]) -> None:
        if not profiles:
            return
        last = {p.user_id: p for p in profiles}  # a person's last version is the one kept
        await self._conn.execute(
            _SAVE_PROFILES,
            tenant_id,
            list(last),
            [p.version for p in last.values()],
            [p.model_dump_json() for p in last.values()],
        )

    async def list_profiles(self, tenant_id: str, query: ProfileQuery) -> list[ProfilePayload]:
        rows = await self._conn.fetch(
            "SELECT profile FROM profiles WHERE tenant_id = $1 AND user_id > $2"
            " AND profile @> $3::jsonb AND ($4::timestamptz IS NULL OR updated_at >= $4)"
            " ORDER BY user_id LIMIT $5",
            tenant_id,
            query.after_user_id,
            _document_filter(query),
            query.updated_since,
            query.limit,
        )
        return [ProfilePayload.model_validate_json(r["profile"]) for r in rows]

    async def profiles_managed_by(self, tenant_id: str, manager_id: str) -> list[ProfilePayload]:
        rows = await self._conn.fetch(
            "SELECT profile FROM profiles WHERE tenant_id = $1 AND profile ->> 'manager_id' = $2"
            " ORDER BY user_id FOR UPDATE",
            tenant_id,
            manager_id,
        )
        return [ProfilePayload.model_validate_json(r["profile"]) for r in rows]

    async def unsubscribed(self, tenant_id: str, user_ids: Sequence[str]) -> set[str]:
        rows = await self._conn.fetch(
            "SELECT user_id FROM profiles WHERE tenant_id = $1 AND user_id = ANY($2)"
            " AND unsubscribed_at IS NOT NULL",
            tenant_id,
            list(user_ids),
        )
        return {r["user_id"] for r in rows}

    async def mark_unsubscribed(self, tenant_id: str, user_id: str) -> None:
        await self._conn.execute(
            "UPDATE profiles SET unsubscribed_at = coalesce(unsubscribed_at, now())"
            " WHERE tenant_id = $1 AND user_id = $2",
            tenant_id,
            user_id,
        )

    async def get_goal(
        self,
        tenant_id: str,
        mentee_id: str,
        goal_id: str = DEFAULT_GOAL_ID,
        *,
        for_update: bool = False,
    ) -> GoalSetPayload | None:
        raw = await self._conn.fetchval(_GOAL[for_update], tenant_id, mentee_id, goal_id)
        return GoalSetPayload.model_validate_json(raw) if raw else None

    async def goals_of(self, tenant_id: str, mentee_id: str) -> list[StoredGoal]:
        rows = await self._conn.fetch(
            "SELECT goal, closed FROM goals WHERE tenant_id = $1 AND mentee_id = $2"
            " ORDER BY goal_id",
            tenant_id,
            mentee_id,
        )
        return [StoredGoal(GoalSetPayload.model_validate_json(r[0]), r[1]) for r in rows]

    async def save_goal(self, tenant_id: str, goal: GoalSetPayload) -> None:
        await self._conn.execute(
            "INSERT INTO goals (tenant_id, mentee_id, goal_id, version, goal)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, mentee_id, goal_id) DO UPDATE"
            " SET version = EXCLUDED.version, goal = EXCLUDED.goal, closed = NULL,"
            " updated_at = now()",
            tenant_id,
            goal.mentee_id,
            goal.goal_id,
            goal.version,
            goal.model_dump_json(),
        )

    async def close_goal(
        self, tenant_id: str, mentee_id: str, goal_id: str, version: int, reason: ClosingReason
    ) -> None:
        await self._conn.execute(
            "UPDATE goals SET version = $4, closed = $5, updated_at = now(),"
            " goal = jsonb_set(goal, '{version}', to_jsonb($4::int))"
            " WHERE tenant_id = $1 AND mentee_id = $2 AND goal_id = $3",
            tenant_id,
            mentee_id,
            goal_id,
            version,
            reason,
        )

    async def goals_and_limit(
        self, tenant_id: str, mentee_id: str
    ) -> tuple[list[StoredGoal], int | None]:
        rows = await self._conn.fetch(GOALS_AND_LIMIT, tenant_id, mentee_id)
        goals = [StoredGoal(GoalSetPayload.model_validate_json(r[0]), r[1]) for r in rows if r[0]]
        return goals, rows[0]["max_active_goals"]

    async def erase_person(self, tenant_id: str, user_id: str) -> None:
        for statement in (
            "DELETE FROM profiles WHERE tenant_id = $1 AND user_id = $2",
            "DELETE FROM goals WHERE tenant_id = $1 AND mentee_id = $2",
            "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND user_id = $2",
            "DELETE FROM link_responses WHERE tenant_id = $1"
            " AND (mentee_id = $2 OR mentor_id = $2)",
        ):
            await self._conn.execute(statement, tenant_id, user_id)
        await erase_relationships(self._conn, tenant_id, user_id)

    async def publish(self, topic: TopicSpec, event: EventEnvelope) -> None:
        key = topic.record_key(event.tenant_id, event.key)
        self._outbox.add(topic.qualified(self._prefix), event, key=key)

    async def publish_tombstone(self, topic: TopicSpec, tenant_id: str, user_id: str) -> None:
        key = topic.record_key(tenant_id, user_id)
        self._outbox.add_tombstone(topic.qualified(self._prefix), key, tenant_id)


class PostgresUnitOfWork:
    def __init__(
        self, pool: asyncpg.Pool, topic_prefix: str, erasure_keys: ErasureKeys | None = None
    ) -> None:
        self._pool = pool
        self._prefix = topic_prefix
        self._keys = erasure_keys or ErasureKeys(ErasureSettings().keys())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresProfileTransaction]:
        """Its own transaction, or a savepoint of the ingress worker's (adapters/together.py)."""
        async with outbox_on(self._pool) as (conn, outbox):
            yield PostgresProfileTransaction(conn, self._prefix, self._keys, outbox)
