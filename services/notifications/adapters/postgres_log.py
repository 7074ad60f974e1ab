"""The delivery log, read for support staff: one row per email, newest first."""

from __future__ import annotations

import asyncpg

from services.notifications.service_layer.ports import Delivery, DeliveryQuery


class PostgresDeliveryLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def deliveries(self, query: DeliveryQuery) -> list[Delivery]:
        rows = await self._pool.fetch(
            "SELECT id, kind, mentee_id, proposal_id, ranking_version, state, last_error, attempts,"
            " message_id, created_at, updated_at, sent_at,"
            " CASE WHEN state IN ('queued', 'sending') THEN next_attempt_at END AS next_attempt_at"
            " FROM emails WHERE tenant_id = $1"
            " AND ($2::text IS NULL OR mentee_id = $2)"
            " AND ($3::uuid IS NULL OR proposal_id = $3)"
            " AND ($4::bigint IS NULL OR id < $4)"
            " ORDER BY id DESC LIMIT $5",
            query.tenant_id,
            query.mentee_id,
            query.proposal_id,
            query.before_id,
            query.limit,
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
            )
            for r in rows
        ]
