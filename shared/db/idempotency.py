"""Idempotent consumer: remember each handled event id inside the handler's transaction."""

from __future__ import annotations

from collections.abc import Sequence
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


async def first_deliveries(
    conn: DbConnection, consumer: str, event_ids: Sequence[UUID]
) -> set[UUID]:
    """The ids `consumer` sees for the first time, in one round trip (a batch subscriber's)."""
    rows = await conn.fetch(
        "INSERT INTO processed_events (consumer, event_id)"
        " SELECT $1, id FROM unnest($2::uuid[]) AS id"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        consumer,
        list(event_ids),
    )
    return {row["event_id"] for row in rows}
