"""asyncpg implementation of the staged ingress commands (migration 0004)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

import asyncpg

from services.profile.adapters.together import connection_on, outbox_on, together
from services.profile.service_layer.ingress_queue import Origin, Refusal, StagedCommand
from shared.kafka.dead_letter import DeadLetter

# A poll's commands in one statement, staged in their order (ORDER BY n: `seq` is taken
# after the sort); a command id already staged, even earlier in the same poll, is kept once.
STAGE = """
INSERT INTO ingress_queue (tenant_id, user_id, command_id, source_topic, source_partition,
                           source_offset, source_key, source_value, source_headers,
                           produced_at)
SELECT tenant_id, user_id, command_id, source_topic, source_partition, source_offset,
       source_key, source_value, source_headers::jsonb, produced_at
  FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::int[], $6::bigint[],
              $7::bytea[], $8::bytea[], $9::text[], $10::timestamptz[])
       WITH ORDINALITY AS row_(tenant_id, user_id, command_id, source_topic, source_partition,
                               source_offset, source_key, source_value, source_headers,
                               produced_at, n)
 ORDER BY n
ON CONFLICT (command_id) DO NOTHING
"""

# Each user's oldest command; of those, each tenant's `per_tenant` oldest; tenants interleaved.
# It reads about `per_tenant` rows per tenant whatever the queue's depth: the tenants by a
# skip scan of `ingress_queue_heads`, each tenant's commands in staging order
# (`ingress_queue_order`) until `per_tenant` of them had no older command of their user. A
# round that sorted the whole queue made a company's onboarding quadratic in its size.
NEXT_ROUND = """
WITH RECURSIVE tenants AS (
    (SELECT tenant_id FROM ingress_queue ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT q.tenant_id FROM ingress_queue q WHERE q.tenant_id > t.tenant_id
             ORDER BY q.tenant_id LIMIT 1)
      FROM tenants t
     WHERE t.tenant_id IS NOT NULL
)
SELECT * FROM (
    SELECT heads.*, row_number() OVER (PARTITION BY heads.tenant_id ORDER BY heads.seq) AS turn
      FROM tenants t
     CROSS JOIN LATERAL (
         SELECT q.* FROM ingress_queue q
          WHERE q.tenant_id = t.tenant_id
            AND NOT EXISTS (SELECT 1 FROM ingress_queue older
                             WHERE older.tenant_id = q.tenant_id
                               AND older.user_id = q.user_id
                               AND older.seq < q.seq)
          ORDER BY q.seq
          LIMIT $1
     ) heads
) ranked
 ORDER BY turn, seq
"""


def _staged(row: asyncpg.Record) -> StagedCommand:
    origin = Origin(
        topic=row["source_topic"],
        partition=row["source_partition"],
        offset=row["source_offset"],
        key=row["source_key"],
        value=row["source_value"],
        headers=json.loads(row["source_headers"]),
        produced_at=row["produced_at"],
    )
    return StagedCommand(row["tenant_id"], row["user_id"], row["command_id"], origin, row["seq"])


class PostgresIngressQueue:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def stage(self, commands: Sequence[StagedCommand]) -> None:
        rows = [
            (
                c.tenant_id,
                c.user_id,
                c.command_id,
                c.origin.topic,
                c.origin.partition,
                c.origin.offset,
                c.origin.key,
                c.origin.value,
                json.dumps(c.origin.headers),
                c.origin.produced_at,
            )
            for c in commands
        ]
        if not rows:
            return
        columns = [list(column) for column in zip(*rows, strict=True)]
        async with self._pool.acquire() as conn:
            await conn.execute(STAGE, *columns)

    def together(self) -> AbstractAsyncContextManager[None]:
        return together(self._pool)

    async def next_round(self, per_tenant: int) -> list[StagedCommand]:
        async with connection_on(self._pool) as conn:
            return [_staged(r) for r in await conn.fetch(NEXT_ROUND, per_tenant)]

    async def done(self, seqs: Sequence[int]) -> None:
        async with connection_on(self._pool) as conn:
            await conn.execute("DELETE FROM ingress_queue WHERE seq = ANY($1::bigint[])", seqs)

    async def refuse(self, command: StagedCommand, refusal: Refusal, service: str) -> None:
        origin = command.origin
        letter = DeadLetter(
            source_topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
            key=origin.key,
            value=origin.value,
            reason=refusal.reason,
            error=refusal.detail,
            service=service,
            original_headers={**origin.headers, "tenant_id": command.tenant_id},
        )
        async with outbox_on(self._pool) as (conn, outbox):
            dropped = await conn.fetchval(
                "DELETE FROM ingress_queue WHERE seq = $1 RETURNING 1", command.seq
            )
            if dropped:
                outbox.add_dead_letter(letter)

    async def depth(self) -> int:
        return int(await self._pool.fetchval("SELECT count(*) FROM ingress_queue"))
