"""Per-tenant API limits against real PostgreSQL and Kafka: 429 problem+json with Retry-After,
and one tenant cannot hold the connection pool while another waits."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tests.integration.test_profile_api import RunningProfile, put, running_profile
from tests.support.people import mentor_body
from tests.support.polling import eventually

POOL = 8
CONCURRENCY = 3


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint):
    async with running_profile(
        kafka_endpoint,
        postgres_endpoint,
        db={"db_pool_max": POOL},
        tenant_concurrency=CONCURRENCY,
        tenant_limits={"slow-tenant": {"rate_per_s": 0.2, "burst": 3}},
    ) as running:
        yield running


async def test_a_tenant_over_its_rate_gets_429_with_retry_after_and_others_do_not(
    profile: RunningProfile,
) -> None:
    slow, other = await profile.key_for("slow-tenant"), await profile.key_for("other-tenant")
    for _ in range(3):
        assert (await profile.http.get("/v1/profiles", headers=slow)).status_code == 200
    refused = await profile.http.get("/v1/profiles", headers=slow)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Too many requests"
    assert "0.2 requests per second" in refused.json()["detail"]
    assert refused.headers["Retry-After"] == "5"  # one token every 5 s
    assert (await profile.http.get("/v1/profiles", headers=other)).status_code == 200


async def test_one_tenant_cannot_hold_the_connection_pool(profile: RunningProfile) -> None:
    """Requests of one tenant that wait on a row lock each hold a connection: as many as the
    pool has would leave nothing for anyone else. Only CONCURRENCY of them get in."""
    busy, other = await profile.key_for("busy-tenant"), await profile.key_for("other-tenant")
    user = f"u-{uuid.uuid4().hex[:8]}"
    assert (await put(profile, busy, user, mentor_body("Grace"))).status_code == 200
    blocker = await asyncpg.connect(profile.database_url)
    lock = blocker.transaction()
    await lock.start()
    await blocker.execute(
        "SELECT 1 FROM profile.profiles WHERE tenant_id = 'busy-tenant' AND user_id = $1"
        " FOR UPDATE",
        user,
    )
    try:
        writes = [
            asyncio.create_task(put(profile, busy, user, mentor_body(f"Grace {n}")))
            for n in range(POOL)
        ]

        def all_refused() -> list[asyncio.Task]:
            found = [w for w in writes if w.done() and w.result().status_code == 429]
            return found if len(found) == POOL - CONCURRENCY else []

        refused = await eventually(
            all_refused, timeout=30, what="the writes past the tenant's concurrency to be refused"
        )
        assert all(w.result().headers["Retry-After"] == "1" for w in refused)
        answer = await asyncio.wait_for(profile.http.get("/v1/profiles", headers=other), timeout=15)
        assert answer.status_code == 200
    finally:
        await lock.rollback()
        await blocker.close()
    done = await asyncio.gather(*writes)
    assert sorted(r.status_code for r in done) == [200] * CONCURRENCY + [429] * (POOL - CONCURRENCY)
