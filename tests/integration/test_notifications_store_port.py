"""The notifications consumer's port suite over PostgreSQL (the adapter the service runs on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from services.notifications import bootstrap
from services.notifications.adapters.postgres import PostgresNotificationsStore
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings
from tests.ports.notifications_store import NotificationsStoreContract


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "notifications")
    await apply_migrations(pool, "notifications", bootstrap.MIGRATIONS)
    yield pool
    await pool.close()


class TestPostgresNotificationsStore(NotificationsStoreContract):
    @pytest.fixture
    def store(self, pool: asyncpg.Pool) -> Any:
        return PostgresNotificationsStore(pool)
