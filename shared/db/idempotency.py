"""Idempotent consumer: remember each handled event id inside the handler's transaction."""

from __future__ import annotations

from uuid import UUID

from shared.db.types import DbConnection


async def first_delivery(conn: DbConnection, consumer: str, event_id: UUID) -> bool:
    """True the first time `consumer` sees `event_id`; call inside the handler's transaction."""
    row = await conn.fetchval(
        "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        consumer,
        event_id,
    )
    return row is not None
