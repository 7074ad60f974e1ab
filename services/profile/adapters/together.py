"""Work that commits together: inside `together(pool)`, every `transaction_on(pool)` of the
same task is a savepoint of one transaction on one connection, instead of a transaction of
its own on a connection of its own.

The ingress worker applies many staged commands this way (ADR 0006): each still rolls back
alone when it fails, and they all commit at once, so a flood of commands pays one commit and
one connection checkout per transaction rather than two of each per command.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

import asyncpg

from shared.db.types import DbConnection

_shared: ContextVar[DbConnection | None] = ContextVar("profile_together", default=None)


@asynccontextmanager
async def together(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """One transaction for the transactions opened inside by this task; nested, it joins."""
    if _shared.get() is not None:
        yield
        return
    async with pool.acquire() as conn, conn.transaction():
        token = _shared.set(conn)
        try:
            yield
        finally:
            _shared.reset(token)


@asynccontextmanager
async def transaction_on(pool: asyncpg.Pool) -> AsyncIterator[DbConnection]:
    """A transaction of its own, or a savepoint of the one `together` holds: either way the
    block's writes are rolled back if it raises."""
    conn = _shared.get()
    if conn is not None:
        async with conn.transaction():
            yield conn
        return
    async with pool.acquire() as own, own.transaction():
        yield own


@asynccontextmanager
async def connection_on(pool: asyncpg.Pool) -> AsyncIterator[DbConnection]:
    """The connection of the transaction `together` holds, or one of the pool's: for a single
    statement, which needs no savepoint."""
    conn = _shared.get()
    if conn is not None:
        yield conn
        return
    async with pool.acquire() as own:
        yield own
