"""Work that commits together: inside `together(pool)`, every `transaction_on(pool)` of the
same task is a savepoint of one transaction on one connection, instead of a transaction of
its own on a connection of its own.

The ingress worker applies many staged commands this way (ADR 0006): each still rolls back
alone when it fails, and they all commit at once, so a flood of commands pays one commit and
one connection checkout per transaction rather than two of each per command. Their outbox rows
are written together too, once, just before that commit (`outbox_on`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import asyncpg

from shared.db.types import DbConnection
from shared.outbox import OutboxBatch


@dataclass
class _Together:
    conn: DbConnection
    # the rows of the savepoints released so far (during one: that savepoint's own batch)
    outbox: OutboxBatch = field(default_factory=OutboxBatch)


_shared: ContextVar[_Together | None] = ContextVar("profile_together", default=None)


@asynccontextmanager
async def together(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """One transaction for the transactions opened inside by this task; nested, it joins."""
    if _shared.get() is not None:
        yield
        return
    async with pool.acquire() as conn, conn.transaction():
        joined = _Together(conn)
        token = _shared.set(joined)
        try:
            yield
            await joined.outbox.write(conn)  # in the order the savepoints wrote them
        finally:
            _shared.reset(token)


@asynccontextmanager
async def transaction_on(pool: asyncpg.Pool) -> AsyncIterator[DbConnection]:
    """A transaction of its own, or a savepoint of the one `together` holds: either way the
    block's writes are rolled back if it raises."""
    joined = _shared.get()
    if joined is not None:
        async with joined.conn.transaction():
            yield joined.conn
        return
    async with pool.acquire() as own, own.transaction():
        yield own


@asynccontextmanager
async def outbox_on(pool: asyncpg.Pool) -> AsyncIterator[tuple[DbConnection, OutboxBatch]]:
    """`transaction_on`, with a batch for the block's outbox rows: written before its own
    commit, or, in a savepoint of `together`'s, handed to the shared batch once the savepoint
    is released (one statement and one NOTIFY for all, before their common commit). A
    savepoint rolled back drops its rows with its writes."""
    batch = OutboxBatch()
    joined = _shared.get()
    if joined is not None:
        # a block nested in this one hands its rows to this one's batch, which they then
        # leave with or are dropped with
        enclosing, joined.outbox = joined.outbox, batch
        try:
            async with joined.conn.transaction():
                yield joined.conn, batch
        finally:
            joined.outbox = enclosing
        enclosing.extend(batch)
        return
    async with pool.acquire() as own, own.transaction():
        yield own, batch
        await batch.write(own)


@asynccontextmanager
async def connection_on(pool: asyncpg.Pool) -> AsyncIterator[DbConnection]:
    """The connection of the transaction `together` holds, or one of the pool's: for a single
    statement, which needs no savepoint."""
    joined = _shared.get()
    if joined is not None:
        yield joined.conn
        return
    async with pool.acquire() as own:
        yield own
