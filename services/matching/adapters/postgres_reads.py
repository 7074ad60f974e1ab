"""The integrators' reads from matching's store: one read-only, repeatable-read transaction per
answer, so every row comes from the same committed state (service_layer/reads.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from services.matching.adapters.postgres import MENTEE_RELATIONSHIPS, relationship
from services.matching.adapters.stored_people import goal_from_json, person_from_json
from services.matching.domain.explaining import MenteeGoal, StoredEntries
from services.matching.domain.people import Person
from services.matching.service_layer.reads import SentProposal
from shared.db.types import DbConnection


class PostgresReadSnapshot:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def mentee_goal(self, tenant_id: str, mentee_id: str, goal_id: str) -> MenteeGoal | None:
        row = await self._conn.fetchrow(
            "SELECT p.features, g.goal FROM goals g JOIN people p"
            " ON p.tenant_id = g.tenant_id AND p.user_id = g.mentee_id"
            " WHERE g.tenant_id = $1 AND g.mentee_id = $2 AND g.goal_id = $3"
            " AND NOT g.closed",  # a closed goal (GoalClosed) reads as no goal
            tenant_id,
            mentee_id,
            goal_id,
        )
        if row is None:
            return None
        declined = await self._conn.fetch(
            "SELECT mentor_id FROM pairs WHERE tenant_id = $1 AND mentee_id = $2",
            tenant_id,
            mentee_id,
        )
        found = await self._conn.fetch(MENTEE_RELATIONSHIPS, tenant_id, mentee_id)
        return MenteeGoal(
            mentee=person_from_json(row["features"]),
            goal=goal_from_json(row["goal"]),
            declined=frozenset(r["mentor_id"] for r in declined),
            relationships=tuple(relationship(r) for r in found),
        )

    async def proposal(self, tenant_id: str, mentee_id: str, goal_id: str) -> SentProposal | None:
        row = await self._conn.fetchrow(
            "SELECT goal_id, ranking_version, proposal_id, mentor_ids, proposed_at"
            " FROM proposals WHERE tenant_id = $1 AND mentee_id = $2 AND goal_id = $3",
            tenant_id,
            mentee_id,
            goal_id,
        )
        if row is None:
            return None
        return SentProposal(
            row["goal_id"],
            row["ranking_version"],
            row["proposal_id"],
            tuple(row["mentor_ids"]),
            row["proposed_at"],
        )

    async def mentors(self, tenant_id: str, mentor_ids: Sequence[str]) -> dict[str, Person]:
        rows = await self._conn.fetch(
            "SELECT features FROM people WHERE tenant_id = $1 AND user_id = ANY($2::text[])",
            tenant_id,
            list(mentor_ids),
        )
        return {p.user_id: p for p in map(person_from_json, (r["features"] for r in rows))}

    async def mentors_holding(self, tenant_id: str, skills: Sequence[str]) -> dict[str, Person]:
        rows = await self._conn.fetch(
            "SELECT features FROM people WHERE tenant_id = $1 AND is_mentor"
            " AND features::jsonb -> 'skills' ?| $2::text[]",
            tenant_id,
            list(skills),
        )
        return {p.user_id: p for p in map(person_from_json, (r["features"] for r in rows))}

    async def mentor_lists(
        self, tenant_id: str, mentor_ids: Sequence[str]
    ) -> dict[str, list[StoredEntries]]:
        rows = await self._conn.fetch(
            "SELECT mentor_id, mentee_ids, scores FROM mentor_lists"
            " WHERE tenant_id = $1 AND mentor_id = ANY($2::text[])",
            tenant_id,
            list(mentor_ids),
        )
        lists: dict[str, list[StoredEntries]] = defaultdict(list)
        for r in rows:
            lists[r["mentor_id"]].append(list(zip(r["mentee_ids"], r["scores"], strict=True)))
        return lists


class PostgresReadStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[PostgresReadSnapshot]:
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield PostgresReadSnapshot(conn)
