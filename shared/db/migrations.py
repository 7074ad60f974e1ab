"""Forward-only SQL migrations, applied at service start under an advisory lock.

Each service keeps `NNNN_name.sql` files in its own `migrations/` folder; they run with the
service's schema as `search_path`, so they use unqualified names. The mechanism tables that
`shared/` provides (outbox, processed events) are migrations too.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import asyncpg

SHARED_MIGRATIONS = resources.files("shared.db") / "sql"


def _migration_files(folder: Path) -> list[tuple[str, str]]:
    return [(p.name, p.read_text()) for p in sorted(folder.glob("*.sql"))]


def _shared_files() -> list[tuple[str, str]]:
    files = sorted(
        (f for f in SHARED_MIGRATIONS.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name
    )
    return [(f"shared/{f.name}", f.read_text()) for f in files]


async def apply_migrations(pool: asyncpg.Pool, schema: str, folder: Path) -> list[str]:
    """Apply pending migrations; returns the names applied now."""
    applied_now: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrations:{schema}")
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}"')
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for name, sql in _shared_files() + _migration_files(folder):
            if name in done:
                continue
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied_now.append(name)
    return applied_now
