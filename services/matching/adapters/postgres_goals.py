"""A poll's goals stored ahead with one statement, and the answers its handlers then find
(service_layer/goals_ahead.py; issue 29: a statement per goal before)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from services.matching.adapters.stored_people import goal_to_json
from services.matching.domain.people import Goal
from shared.db.types import DbConnection

# SAVE_GOAL for many distinct goals (in the given order), and the pairs and relationships of
# the mentees in $7, read from the snapshot before the insert (they do not read goals): a row
# of kind 'saved' per goal stored, one of kind 'block' per pair or relationship.
SAVE_GOALS_AHEAD = """
WITH given AS (
    SELECT * FROM unnest($2::text[], $3::int[], $4::int[], $5::text[], $6::int[])
           AS g(mentee_id, version, partition, goal, n)
), saved AS (
    INSERT INTO goals (tenant_id, mentee_id, version, partition, goal)
    SELECT $1, mentee_id, version, partition, goal FROM given ORDER BY n
    ON CONFLICT (tenant_id, mentee_id, goal_id)
    DO UPDATE SET version = EXCLUDED.version, partition = EXCLUDED.partition,
                  goal = EXCLUDED.goal, closed = false
     WHERE goals.version < EXCLUDED.version
    RETURNING mentee_id, goal_id
)
SELECT 'saved' AS kind, NULL::uuid AS request_id, NULL::text AS mentor_id, goal_id,
       NULL::text AS state, NULL::int AS version, NULL::bool AS never_again, mentee_id
  FROM saved
UNION ALL
SELECT 'block', NULL::uuid, mentor_id, NULL::text, NULL::text, NULL::int, NULL::bool, mentee_id
  FROM pairs WHERE tenant_id = $1 AND mentee_id = ANY($7::text[])
UNION ALL
SELECT 'block', request_id, mentor_id, goal_id, state, version, never_again, mentee_id
  FROM relationships WHERE tenant_id = $1 AND mentee_id = ANY($7::text[])
"""


@dataclass(frozen=True)
class Ahead:
    saved: bool
    blocks: list[asyncpg.Record] | None  # the mentee's block rows, if read


class GoalsAhead:
    """The goals this transaction stored ahead: (tenant, mentee, goal id, version) -> answer,
    each taken once."""

    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn
        self._answers: dict[tuple[str, str, str, int], Ahead] = {}

    async def save(self, tenant_id: str, goals: Sequence[tuple[Goal, int, bool]]) -> None:
        if not goals:
            return
        readers = sorted({goal.mentee_id for goal, _, blocks in goals if blocks})
        rows = await self._conn.fetch(
            SAVE_GOALS_AHEAD,
            tenant_id,
            [goal.mentee_id for goal, _, _ in goals],
            [goal.version for goal, _, _ in goals],
            [partition for _, partition, _ in goals],
            [goal_to_json(goal) for goal, _, _ in goals],
            list(range(len(goals))),
            readers,
        )
        saved = {(r["mentee_id"], r["goal_id"]) for r in rows if r["kind"] == "saved"}
        blocks: dict[str, list[asyncpg.Record]] = {mentee: [] for mentee in readers}
        for r in rows:
            if r["kind"] == "block":
                blocks[r["mentee_id"]].append(r)
        for goal, _, read in goals:
            self._answers[tenant_id, goal.mentee_id, goal.goal_id, goal.version] = Ahead(
                (goal.mentee_id, goal.goal_id) in saved,
                blocks[goal.mentee_id] if read else None,
            )

    def take(self, tenant_id: str, goal: Goal) -> Ahead | None:
        """The answer for this goal if it was stored ahead (once), else None."""
        return self._answers.pop((tenant_id, goal.mentee_id, goal.goal_id, goal.version), None)
