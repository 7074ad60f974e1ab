"""The profile store's port suite over PostgreSQL (the adapter the service runs on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.profile import bootstrap
from services.profile.adapters.api_keys import ApiKeys
from services.profile.adapters.postgres import PostgresUnitOfWork
from services.profile.adapters.postgres_relationships import set_tenant_terms
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings
from tests.ports.profile_store import ProfileStoreContract
from tests.ports.relationship_store import RelationshipStoreContract

MIGRATIONS = Path(bootstrap.__file__).parent / "migrations"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "profile")
    await apply_migrations(pool, "profile", MIGRATIONS)
    yield pool
    await pool.close()


class TestPostgresProfileStore(ProfileStoreContract):
    @pytest.fixture
    def uow(self, pool: asyncpg.Pool) -> Any:
        return PostgresUnitOfWork(pool, "t.")

    @pytest.fixture
    def activate(self, pool: asyncpg.Pool) -> Any:
        async def activate(tenant_id: str) -> None:
            await ApiKeys(pool).create(tenant_id)

        return activate


class TestPostgresRelationshipStore(RelationshipStoreContract):
    @pytest.fixture
    def uow(self, pool: asyncpg.Pool) -> Any:
        return PostgresUnitOfWork(pool, "t.")

    @pytest.fixture
    def set_terms(self, pool: asyncpg.Pool) -> Any:
        async def set_terms(tenant: str, deadline: int | None, fit: int | None, limit: int | None):
            async with pool.acquire() as conn:
                await set_tenant_terms(conn, tenant, deadline, fit, limit)

        return set_terms
