"""The matching store's port suite over PostgreSQL (the adapter the service runs on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.matching import bootstrap
from services.matching.adapters.postgres import PostgresUnitOfWork
from services.matching.adapters.state_loader import PostgresStateLoader
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings
from tests.ports.matching_store import MatchingStoreContract

MIGRATIONS = Path(bootstrap.__file__).parent / "migrations"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "matching")
    await apply_migrations(pool, "matching", MIGRATIONS)
    yield pool
    await pool.close()


class TestPostgresMatchingStore(MatchingStoreContract):
    @pytest.fixture
    def uow(self, pool: asyncpg.Pool) -> Any:
        return PostgresUnitOfWork(pool, "t.")

    @pytest.fixture
    def loader(self, pool: asyncpg.Pool) -> Any:
        return PostgresStateLoader(pool)
