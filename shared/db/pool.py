"""asyncpg pools bound to one service's schema."""

from __future__ import annotations

import asyncpg

from shared.settings import DatabaseSettings


async def create_pool(
    settings: DatabaseSettings, schema: str, custom_plans: bool = False
) -> asyncpg.Pool:
    """A pool whose connections resolve unqualified table names in the service's own schema.

    `custom_plans`: every execution of a prepared statement is planned for its arguments
    (`plan_cache_mode = force_custom_plan`). By default PostgreSQL switches a statement to one
    generic plan after five executions and keeps it for the connection's life, until an
    ANALYZE of its tables. A service whose statements join whole arrays of keys against
    tables that fill from empty (notifications' emails) would keep the sequential scans that
    suited the empty tables: each execution then reads the whole table. Planning each
    execution costs a little, once per batch.
    """
    server_settings = {"search_path": schema, "application_name": f"mentorlink-{schema}"}
    if custom_plans:
        server_settings["plan_cache_mode"] = "force_custom_plan"
    pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        timeout=settings.db_connect_timeout_s,
        command_timeout=30,
        server_settings=server_settings,
    )
    assert pool is not None
    return pool
