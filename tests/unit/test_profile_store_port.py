"""The profile store's port suite over the in-memory fake the handler tests run on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ports.profile_store import ProfileStoreContract
from tests.unit.profile_fakes import FakeUnitOfWork


class TestFakeProfileStore(ProfileStoreContract):
    @pytest.fixture
    def uow(self) -> Any:
        return FakeUnitOfWork()

    @pytest.fixture
    def activate(self, uow: FakeUnitOfWork) -> Any:
        async def activate(tenant_id: str) -> None:
            uow.state.active_tenants.add(tenant_id)

        return activate
