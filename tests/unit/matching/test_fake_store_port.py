"""The matching store's port suite over the in-memory fake the unit tests run on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ports.matching_store import MatchingStoreContract
from tests.unit.matching.fake_store import FakeStateLoader, fake_unit_of_work


class TestFakeMatchingStore(MatchingStoreContract):
    @pytest.fixture
    def uow(self) -> Any:
        return fake_unit_of_work()

    @pytest.fixture
    def loader(self, uow: Any) -> Any:
        return FakeStateLoader(uow)
