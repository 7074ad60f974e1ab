"""The profile store's port suite over the in-memory fake the handler tests run on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.profile.domain.relationships import LifecycleTerms
from tests.ports.profile_store import ProfileStoreContract
from tests.ports.relationship_store import RelationshipStoreContract
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


class TestFakeRelationshipStore(RelationshipStoreContract):
    @pytest.fixture
    def uow(self) -> Any:
        return FakeUnitOfWork()

    @pytest.fixture
    def set_terms(self, uow: FakeUnitOfWork) -> Any:
        async def set_terms(tenant: str, deadline: int | None, fit: int | None, limit: int | None):
            defaults = LifecycleTerms()
            uow.state.relationships.terms[tenant] = LifecycleTerms(
                timedelta(days=deadline) if deadline else defaults.request_deadline,
                timedelta(days=fit) if fit else timedelta(days=14),
                limit or defaults.open_requests_limit,
            )

        return set_terms
