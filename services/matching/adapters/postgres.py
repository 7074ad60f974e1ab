"""asyncpg implementation of matching's unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from services.matching.service_layer.unit_of_work import CurrentProposal
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSetPayload
from shared.contracts.profiles import ProfilePayload
from shared.contracts.topics import TopicSpec
from shared.db.idempotency import first_delivery
from shared.db.types import DbConnection
from shared.outbox import add_to_outbox

CONSUMER = "matching"


class PostgresMatchingTransaction:
    def __init__(self, conn: DbConnection, topic_prefix: str) -> None:
        self._conn = conn
        self._prefix = topic_prefix

    async def first_delivery(self, event_id: UUID) -> bool:
        return await first_delivery(self._conn, CONSUMER, event_id)

    async def lock_tenant(self, tenant_id: str, *, exclusive: bool) -> None:
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await self._conn.execute(f"SELECT {function}(1, hashtext($1))", tenant_id)

    async def person_version(self, tenant_id: str, user_id: str) -> int | None:
        version: int | None = await self._conn.fetchval(
            "SELECT version FROM people WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE",
            tenant_id,
            user_id,
        )
        return version

    async def save_person(self, tenant_id: str, profile: ProfilePayload) -> None:
        await self._conn.execute(
            "INSERT INTO people (tenant_id, user_id, version, is_mentor, is_mentee, profile)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, user_id) DO UPDATE SET"
            " version = EXCLUDED.version, is_mentor = EXCLUDED.is_mentor,"
            " is_mentee = EXCLUDED.is_mentee, profile = EXCLUDED.profile",
            tenant_id,
            profile.user_id,
            profile.version,
            profile.is_mentor,
            profile.is_mentee,
            profile.model_dump_json(),
        )

    async def get_person(self, tenant_id: str, user_id: str) -> ProfilePayload | None:
        raw = await self._conn.fetchval(
            "SELECT profile FROM people WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
        )
        return ProfilePayload.model_validate_json(raw) if raw else None

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        for table, column in (
            ("people", "user_id"),
            ("goals", "mentee_id"),
            ("proposals", "mentee_id"),
        ):
            await self._conn.execute(
                f"DELETE FROM {table} WHERE tenant_id = $1 AND {column} = $2"  # noqa: S608 - constants, tenant_id, user_id
            )

    async def goal_version(self, tenant_id: str, mentee_id: str) -> int | None:
        version: int | None = await self._conn.fetchval(
            "SELECT version FROM goals WHERE tenant_id = $1 AND mentee_id = $2 FOR UPDATE",
            tenant_id,
            mentee_id,
        )
        return version

    async def save_goal(self, tenant_id: str, goal: GoalSetPayload) -> None:
        await self._conn.execute(
            "INSERT INTO goals (tenant_id, mentee_id, version, goal) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (tenant_id, mentee_id) DO UPDATE"
            " SET version = EXCLUDED.version, goal = EXCLUDED.goal",
            tenant_id,
            goal.mentee_id,
            goal.version,
            goal.model_dump_json(),
        )

    async def get_goal(self, tenant_id: str, mentee_id: str) -> GoalSetPayload | None:
        raw = await self._conn.fetchval(
            "SELECT goal FROM goals WHERE tenant_id = $1 AND mentee_id = $2", tenant_id, mentee_id
        )
        return GoalSetPayload.model_validate_json(raw) if raw else None

    async def mentors(self, tenant_id: str) -> list[ProfilePayload]:
        rows = await self._conn.fetch(
            "SELECT profile FROM people WHERE tenant_id = $1 AND is_mentor", tenant_id
        )
        return [ProfilePayload.model_validate_json(r["profile"]) for r in rows]

    async def mentees_with_goals(self, tenant_id: str) -> list[str]:
        rows = await self._conn.fetch(
            "SELECT mentee_id FROM goals WHERE tenant_id = $1 ORDER BY mentee_id", tenant_id
        )
        return [r["mentee_id"] for r in rows]

    async def current_proposal(self, tenant_id: str, mentee_id: str) -> CurrentProposal | None:
        row = await self._conn.fetchrow(
            "SELECT ranking_version, goal_id, mentor_ids FROM proposals"
            " WHERE tenant_id = $1 AND mentee_id = $2 FOR UPDATE",
            tenant_id,
            mentee_id,
        )
        if row is None:
            return None
        return CurrentProposal(row["ranking_version"], row["goal_id"], tuple(row["mentor_ids"]))

    async def save_proposal(
        self, tenant_id: str, mentee_id: str, proposal: CurrentProposal, proposal_id: UUID
    ) -> None:
        await self._conn.execute(
            "INSERT INTO proposals (tenant_id, mentee_id, goal_id, ranking_version, proposal_id,"
            " mentor_ids) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, mentee_id)"
            " DO UPDATE SET goal_id = EXCLUDED.goal_id, ranking_version = EXCLUDED.ranking_version,"
            " proposal_id = EXCLUDED.proposal_id, mentor_ids = EXCLUDED.mentor_ids,"
            " proposed_at = now()",
            tenant_id,
            mentee_id,
            proposal.goal_id,
            proposal.ranking_version,
            proposal_id,
            list(proposal.mentor_ids),
        )

    async def publish(self, topic: TopicSpec, event: EventEnvelope) -> None:
        await add_to_outbox(self._conn, topic.qualified(self._prefix), event)


class PostgresUnitOfWork:
    def __init__(self, pool: asyncpg.Pool, topic_prefix: str) -> None:
        self._pool = pool
        self._prefix = topic_prefix

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresMatchingTransaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PostgresMatchingTransaction(conn, self._prefix)
