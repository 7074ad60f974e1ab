"""asyncpg pools bound to one service's schema."""

from __future__ import annotations

import asyncpg

from shared.settings import DatabaseSettings


async def create_pool(settings: DatabaseSettings, schema: str) -> asyncpg.Pool:
    """A pool whose connections resolve unqualified table names in the service's own schema."""
    pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        timeout=settings.db_connect_timeout_s,
        command_timeout=30,
        server_settings={"search_path": schema, "application_name": f"mentorlink-{schema}"},
    )
    assert pool is not None
    return pool
