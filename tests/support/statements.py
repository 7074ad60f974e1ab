"""A pool that records every statement the server executes for it (for statement-count tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from shared.db.migrations import apply_migrations


@asynccontextmanager
async def counted_pool(
    database_url: str, schema: str, migrations: Path
) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    """A pool of `schema` (migrated), and every statement the server executed for it (an
    `executemany` of n rows is n statements)."""
    statements: list[str] = []

    def log(record: Any) -> None:
        rows = len(record.args) if isinstance(record.args, list) else 1
        statements.extend([record.query] * rows)

    async def init(conn: asyncpg.Connection[Any]) -> None:
        conn.add_query_logger(log)

    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=2, init=init, server_settings={"search_path": schema}
    )
    assert pool is not None
    await apply_migrations(pool, schema, migrations)
    try:
        yield pool, statements
    finally:
        await pool.close()
