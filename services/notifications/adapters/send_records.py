"""A send slot's records: its outcomes written over a connection the slot keeps."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from services.notifications.adapters.claims_sql import (
    HELD_BY,
    INHERIT_AWAITED,
    MARK_RELEASED,
    MARK_SENT,
    NEWER_WAITING,
    REPLACE_OLDER_WAITING,
)
from services.notifications.service_layer.ports import LeaseLost
from shared.errors import TransientError
from shared.kafka.dead_letter import DeadLetter
from shared.outbox import add_dead_letter

GAVE_UP = "email_undeliverable"  # x-dlq-reason of an email that failed max_attempts times


class PostgresSendRecords:
    """One send slot's records, over a connection it keeps (acquired on first use, replaced
    when it breaks), so a send costs no pool round trips."""

    def __init__(self, pool: asyncpg.Pool, service: str) -> None:
        self._pool = pool
        self._service = service
        self._conn: PoolConnectionProxy[asyncpg.Record] | None = None
        self._releasing: asyncio.Future[object] | None = None

    async def _connection(self) -> PoolConnectionProxy[asyncpg.Record]:
        if self._releasing is not None:  # one statement at a time, in the order written
            if not self._releasing.done():  # usually it is: the sender waited for it
                await asyncio.wait([self._releasing])
            self._releasing = None
        if self._conn is not None and not _usable(self._conn):
            await self._give_back()
        if self._conn is None:
            self._conn = await self._pool.acquire()
        return self._conn

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[PoolConnectionProxy[asyncpg.Record]]:
        """The slot's connection for one statement. A connection the server ended under a
        statement can be left mid-protocol (asyncpg raises InternalClientError): it is dropped
        and the failure reported as transient, so the next statement reconnects."""
        conn = await self._connection()
        try:
            yield conn
        except asyncpg.InternalClientError as exc:
            self._conn = None
            conn.terminate()
            await self._pool.release(conn)
            raise TransientError("database connection lost under a statement") from exc

    async def _give_back(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._pool.release(conn)

    async def close(self) -> None:
        if self._releasing is not None:  # never cut off an UPDATE that is on its way
            await asyncio.wait([self._releasing])
        await self._give_back()

    async def recent_sends(self, tenant_id: str, mentee_id: str, since: datetime) -> list[datetime]:
        async with self._session() as conn:
            rows = await conn.fetch(
                "SELECT sent_at FROM emails WHERE tenant_id = $1 AND mentee_id = $2"
                " AND state IN ('released', 'sent') AND kind = 'proposal' AND sent_at > $3",
                tenant_id,
                mentee_id,
                since,
            )
        return [r["sent_at"] for r in rows]

    async def mark_sent(self, claims: Sequence[tuple[int, int]]) -> None:
        async with self._session() as conn:
            await conn.execute(MARK_SENT, [c[0] for c in claims], [c[1] for c in claims])

    async def begin_mark_released(self, email_id: int, attempt: int) -> Awaitable[None]:
        async with self._session() as conn:
            try:
                status = await conn.execute(MARK_RELEASED.format(id=email_id, attempt=attempt))
            except BaseException:
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
                raise
            if status != "UPDATE 1":
                await conn.execute("ROLLBACK")
                raise LeaseLost(f"email {email_id}: claim {attempt} no longer holds it")
        # The task's first step writes the COMMIT before it awaits the reply. It runs in the
        # next turn of the event loop, ahead of anything the caller schedules from here on.
        running: asyncio.Future[object] = asyncio.ensure_future(conn.execute("COMMIT"))
        self._releasing = running
        return asyncio.ensure_future(_shielded(running))

    async def mark_failed(self, email_id: int, attempt: int, state: str, reason: str) -> None:
        async with self._session() as conn:
            await conn.execute(
                "UPDATE emails SET state = $3, last_error = $4, updated_at = now(),"  # noqa: S608
                f" lease_until = NULL, sent_at = NULL WHERE {HELD_BY}",
                email_id,
                attempt,
                state,
                reason,
            )

    async def give_up(self, email_id: int, attempt: int, reason: str) -> None:
        async with self._session() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE emails SET state = 'failed', last_error = $3, updated_at = now(),"  # noqa: S608
                f" lease_until = NULL, sent_at = NULL WHERE {HELD_BY} RETURNING tenant_id,"
                " mentee_id, source_topic, source_partition, source_offset, source_value,"
                " source_headers",
                email_id,
                attempt,
                reason,
            )
            if row is None or row["source_value"] is None:
                return  # erased or claimed again meanwhile, or from before dead letters were kept
            letter = DeadLetter(
                source_topic=row["source_topic"],
                partition=row["source_partition"],
                offset=row["source_offset"],
                key=row["mentee_id"].encode(),
                value=row["source_value"],
                reason=GAVE_UP,
                error=reason,
                service=self._service,
                original_headers={
                    **json.loads(row["source_headers"]),
                    "tenant_id": row["tenant_id"],  # lets erasure find the letter
                },
            )
            await add_dead_letter(conn, letter)

    async def reschedule(
        self,
        email_id: int,
        attempt: int,
        delay_s: float,
        reason: str,
        *,
        count_attempt: bool = True,
    ) -> None:
        """Back to `queued`, unless a newer proposal is already waiting: then superseded. An
        older one waiting is superseded by this one.

        The goal's digest row is locked first, as the consumer does before it queues, so the
        two never both leave a waiting email for one goal.
        """
        async with self._session() as conn, conn.transaction():
            await conn.execute(
                "SELECT 1 FROM mentee_digests d JOIN emails e ON e.tenant_id = d.tenant_id"
                " AND e.mentee_id = d.mentee_id AND e.goal_id = d.goal_id"
                " WHERE e.id = $1 FOR UPDATE OF d",
                email_id,
            )
            held = await conn.fetchval(
                f"SELECT 1 FROM emails WHERE {HELD_BY} FOR UPDATE",  # noqa: S608 - a constant
                email_id,
                attempt,
            )
            if not held:
                return  # claimed again after this claim's lease ran out: the new claim decides
            await conn.execute(INHERIT_AWAITED, email_id)
            await conn.execute(REPLACE_OLDER_WAITING, email_id)
            await conn.execute(
                "UPDATE emails e SET last_error = $3, updated_at = now(), lease_until = NULL,"  # noqa: S608 - constants
                " sent_at = NULL, attempts = attempts - $4::int,"
                " next_attempt_at = now() + make_interval(secs => $2),"
                f" state = CASE WHEN EXISTS (SELECT 1 FROM emails w WHERE {NEWER_WAITING})"
                "   THEN 'superseded' ELSE 'queued' END"
                " WHERE id = $1",
                email_id,
                delay_s,
                reason,
                0 if count_attempt else 1,
            )


def _usable(conn: PoolConnectionProxy[asyncpg.Record]) -> bool:
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # the pool took a broken connection back already
        return False


async def _shielded(running: Awaitable[object]) -> None:
    await asyncio.shield(running)  # a cancelled waiter must not cancel the UPDATE
