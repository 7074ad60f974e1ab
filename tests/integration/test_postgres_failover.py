"""A service reaches PostgreSQL again after a real failover, without a restart (issue 27).

A primary and a streaming standby (devenv/cluster.py); the profile service runs in-process with
the multi-host URL (`target_session_attrs=read-write`). The primary's postmaster is SIGKILLed and
the standby promoted: the same service, with the same pool, accepts a write that lands on the
promoted server, and its outbox relay publishes the event to Kafka.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from devenv.cluster import PostgresPair, postgres_pair
from devenv.infra import KafkaEndpoint, PostgresEndpoint
from tests.integration.test_profile_api import put, running_profile
from tests.support.people import mentor_body
from tests.support.polling import eventually


@pytest.fixture
def pair() -> Iterator[PostgresPair]:
    root = Path(tempfile.mkdtemp(prefix="mentorlink-pair-"))
    root.chmod(0o777)  # run as root, PostgreSQL runs as an unprivileged user inside it
    try:
        with postgres_pair(root) as servers:
            yield servers
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def stored_on(port: int, database: str, user_id: str) -> bool:
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/{database}")
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM profile.profiles WHERE user_id = $1", user_id
        )
        return bool(found)
    finally:
        await conn.close()


async def test_the_service_writes_to_the_promoted_standby_without_a_restart(
    kafka_endpoint: KafkaEndpoint, pair: PostgresPair
) -> None:
    async with running_profile(kafka_endpoint, PostgresEndpoint(pair.url, "pair")) as profile:
        auth = await profile.key_for("failover")
        pool = profile.service.pool
        before = await put(profile, auth, "before", mentor_body("Ada Lovelace"))
        assert before.status_code == 200, before.text
        old_primary = pair.primary.port

        await asyncio.to_thread(pair.kill_primary)
        await asyncio.to_thread(pair.promote)
        assert pair.primary.port != old_primary

        async def written() -> bool:
            response = await put(profile, auth, "after", mentor_body("Grace Hopper"))
            return response.status_code == 200

        await eventually(written, timeout=60, interval=0.5, what="a write after the failover")
        database = profile.database_url.rsplit("/", 1)[1].split("?")[0]
        assert await stored_on(pair.primary.port, database, "after")
        assert await stored_on(pair.primary.port, database, "before")  # replicated in time
        await eventually(profile.relayed, timeout=60, what="the outbox relayed after failover")
        assert profile.service.pool is pool  # the same pool: nothing was restarted
