"""The delivery log, read for support staff: one row per email, newest first."""

from __future__ import annotations

import asyncpg

from services.notifications.service_layer.ports import Delivery, DeliveryQuery

# The goal an email answers, as support is told it. The stored `goal_id` (migration 0008) is
# the one the row's JSON names (every MatchProposed and relationship event carries one) and
# `default` when it names none: right for a proposal (the mentee's one goal, before several
# goals), a guess for a relationship's email, which then shows no goal rather than a made-up one.
KNOWN_GOAL = "CASE WHEN kind = 'proposal' OR lifecycle ? 'goal_id' THEN goal_id END"

DELIVERIES = f"""
SELECT id, kind, mentee_id, proposal_id, ranking_version, state, last_error, attempts,
       message_id, created_at, updated_at, sent_at, {KNOWN_GOAL} AS known_goal,
       CASE WHEN state IN ('queued', 'sending') THEN next_attempt_at END AS next_attempt_at
  FROM emails
 WHERE tenant_id = $1
   AND ($2::text IS NULL OR mentee_id = $2)
   AND ($3::uuid IS NULL OR proposal_id = $3)
   AND ($4::bigint IS NULL OR id < $4)
   AND ($6::text IS NULL OR {KNOWN_GOAL} = $6)
 ORDER BY id DESC LIMIT $5
"""  # noqa: S608 - built from the constant above only


class PostgresDeliveryLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def deliveries(self, query: DeliveryQuery) -> list[Delivery]:
        rows = await self._pool.fetch(
            DELIVERIES,
            query.tenant_id,
            query.mentee_id,
            query.proposal_id,
            query.before_id,
            query.limit,
            query.goal_id,
        )
        return [
            Delivery(
                id=r["id"],
                mentee_id=r["mentee_id"],
                proposal_id=r["proposal_id"],
                ranking_version=r["ranking_version"],
                state=r["state"],
                reason=r["last_error"],
                attempts=r["attempts"],
                message_id=r["message_id"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                next_attempt_at=r["next_attempt_at"],
                sent_at=r["sent_at"],
                kind=r["kind"],
                goal_id=r["known_goal"],
            )
            for r in rows
        ]
