"""Idempotency-Key: one effect per key, the first answer replayed, misuse refused."""

from __future__ import annotations

import pytest

from services.profile.service_layer import handlers
from services.profile.service_layer.idempotency import IdempotencyKeyReused, run_once
from services.profile.service_layer.unit_of_work import (
    IdempotentRequest,
    ProfileTransaction,
    StoredResponse,
)
from tests.unit.builders import TENANT
from tests.unit.test_profile_handlers import FakeUnitOfWork, upsert


def request(key: str = "k-1", fingerprint: bytes = b"same") -> IdempotentRequest:
    return IdempotentRequest(TENANT, key, "u-ada", fingerprint)


async def rename(tx: ProfileTransaction, name: str) -> StoredResponse:
    profile = await handlers.upsert_profile_in(tx, upsert(display_name=name))
    return StoredResponse(200, profile.model_dump_json(), str(profile.version))


async def test_a_retry_replays_the_first_answer_without_a_second_effect() -> None:
    uow = FakeUnitOfWork()
    first = await run_once(uow, request(), lambda tx: rename(tx, "A"))
    retry = await run_once(uow, request(), lambda tx: rename(tx, "B"))  # would change it
    assert (retry.status, retry.body, retry.etag) == (first.status, first.body, first.etag)
    assert retry.replayed and not first.replayed
    assert len(uow.published) == 1
    assert uow.state.profiles[TENANT, "u-ada"].display_name == "A"


async def test_a_key_reused_for_another_request_is_refused() -> None:
    uow = FakeUnitOfWork()
    await run_once(uow, request(), lambda tx: rename(tx, "A"))
    with pytest.raises(IdempotencyKeyReused):
        await run_once(uow, request(fingerprint=b"other"), lambda tx: rename(tx, "B"))
    assert len(uow.published) == 1


async def test_a_failed_request_keeps_nothing_so_its_retry_runs_again() -> None:
    uow = FakeUnitOfWork()

    async def fail(_tx: ProfileTransaction) -> StoredResponse:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await run_once(uow, request(), fail)
    assert uow.state.requests == {}
    answered = await run_once(uow, request(), lambda tx: rename(tx, "A"))
    assert not answered.replayed and len(uow.published) == 1


async def test_without_a_key_every_request_acts() -> None:
    uow = FakeUnitOfWork()
    await run_once(uow, None, lambda tx: rename(tx, "A"))
    await run_once(uow, None, lambda tx: rename(tx, "B"))
    assert len(uow.published) == 2 and uow.state.requests == {}
