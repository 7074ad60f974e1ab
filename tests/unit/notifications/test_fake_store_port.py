"""The notifications consumer's port suite over the in-memory fake its handler tests run on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ports.notifications_store import NotificationsStoreContract
from tests.unit.notifications.store_fakes import store as fake_store


class TestFakeNotificationsStore(NotificationsStoreContract):
    @pytest.fixture
    def store(self) -> Any:
        return fake_store()
