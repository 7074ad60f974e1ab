"""The email dispatcher on real PostgreSQL: it rides out a read-only failover, and a loop that
fails for a reason nobody classified is restarted while /healthz reports it (issue 30, fault 1).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from devenv.smtp_sink import SmtpSink
from services.notifications.bootstrap import NotificationsService
from shared.contracts.topics import PROFILES
from shared.settings import ReliabilitySettings
from tests.integration.test_notifications_delivery import add_mentee, notifications, propose
from tests.support.kafka import read_all
from tests.support.platform import kafka_settings
from tests.support.polling import eventually

FAST = ReliabilitySettings(
    loop_restart_base_s=0.05,
    loop_restart_max_s=0.2,
    loop_stable_after_s=0.5,
    loop_unhealthy_after_s=3.0,  # above the loops' one-second polls
    partition_stall_after_s=1.0,
)


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.execute(f'ALTER DATABASE "{conn._params.database}" RESET ALL')
        await conn.close()


async def set_read_only(admin: asyncpg.Connection, on: bool) -> None:
    """What a failover looks like to a client: every session ends, and new ones cannot write."""
    database = admin._params.database
    await admin.execute(
        f'ALTER DATABASE "{database}" SET default_transaction_read_only = {"on" if on else "off"}'
    )
    await admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = $1 AND pid <> pg_backend_pid()",
        database,
    )


def logged(caplog: pytest.LogCaptureFixture, error: str) -> bool:
    return error in caplog.text  # messages and tracebacks


async def healthz(service: NotificationsService) -> httpx.Response:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as http:
        return await http.get("/healthz")


async def test_emails_go_out_after_a_read_only_failover(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, admin, caplog
) -> None:
    """The contact arrives while the database is read-only: its partition waits (and readiness
    says so) instead of dead-lettering it, and the dispatcher keeps going."""
    caplog.set_level(logging.WARNING)
    async with notifications(
        kafka_endpoint, database_url, topic_prefix, smtp_sink, reliability=FAST
    ) as service:
        await set_read_only(admin, True)
        await eventually(
            lambda: logged(caplog, "ReadOnlySQLTransactionError"),
            timeout=30,
            what="the dispatcher's claim refused by a read-only database",
        )
        user = f"u-{uuid.uuid4().hex[:8]}"
        address = await add_mentee(service, topic_prefix, user)
        await eventually(
            lambda: _progressing(service, False), timeout=30, what="/readyz naming a stall"
        )
        await set_read_only(admin, False)

        await propose(service, topic_prefix, user)
        await eventually(lambda: smtp_sink.messages(to=address), timeout=60, what="the email")
        assert (await healthz(service)).status_code == 200
        await eventually(lambda: _progressing(service, True), timeout=30, what="/readyz again")
        kafka = kafka_settings(kafka_endpoint, topic_prefix)
        assert await read_all(kafka, PROFILES.dead_letter(topic_prefix)) == []


async def test_a_crashing_dispatcher_is_restarted_and_fails_liveness_while_down(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, admin
) -> None:
    async with notifications(
        kafka_endpoint, database_url, topic_prefix, smtp_sink, reliability=FAST
    ) as service:
        # An error no list calls temporary (42P01): the dispatcher's claim fails and it ends.
        await admin.execute("ALTER TABLE notifications.emails RENAME TO emails_away")
        try:
            down = await eventually(
                lambda: _unhealthy(service), timeout=30, what="/healthz failing"
            )
            assert "email-dispatcher" in down.json()["loops"]
            assert service.loops.restarts("email-dispatcher") >= 2
        finally:
            await admin.execute("ALTER TABLE notifications.emails_away RENAME TO emails")

        await eventually(lambda: _healthy(service), timeout=30, what="/healthz back to 200")
        user = f"u-{uuid.uuid4().hex[:8]}"
        address = await add_mentee(service, topic_prefix, user)
        await propose(service, topic_prefix, user)
        await eventually(lambda: smtp_sink.messages(to=address), timeout=60, what="the email")


async def _progressing(service: NotificationsService, expected: bool) -> bool:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as http:
        checks = (await http.get("/readyz")).json()["checks"]
    return checks.get("partitions_progressing") is expected


async def _unhealthy(service: NotificationsService) -> httpx.Response | None:
    response = await healthz(service)
    return response if response.status_code == 503 else None


async def _healthy(service: NotificationsService) -> bool:
    return (await healthz(service)).status_code == 200
