"""Kill -9 the notifications service at each point between consuming a proposal and recording
its send: after a restart the mentee has the email exactly once, with the same Message-ID.

The service runs as its own OS process (`python -m services.notifications`); the test-only
`NOTIFICATIONS_CRASH_AT` hook makes it SIGKILL itself at a named point (see
services/notifications/adapters/crash_points.py). `released` is the point that used to send a
second copy: the process dies with the `released` UPDATE and the end of the message written but
no reply read. PostgreSQL commits the one and the SMTP server accepts the other although the
client is gone, so the row stays `released` (counted as sent) and nothing is sent again
(docs/adr/0003-email-delivery.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

from devenv.infra import KafkaEndpoint, free_port
from devenv.smtp_sink import SmtpSink
from services.notifications.adapters.crash_points import POINTS
from shared.contracts.envelope import EventEnvelope
from shared.contracts.topics import PROFILES, PROPOSALS, TOPICS
from shared.kafka.producer import kafka_producer
from shared.kafka.topics import ensure_topics
from shared.settings import KafkaSettings
from tests.support.platform import kafka_settings
from tests.support.polling import eventually
from tests.unit.builders import match_proposed, mentee, profile_updated, proposal


def service_env(
    endpoint: KafkaEndpoint, prefix: str, database_url: str, sink: SmtpSink
) -> dict[str, str]:
    return {
        **os.environ,
        **endpoint.env(),
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_PARTITIONS": "3",
        "DATABASE_URL": database_url,
        "SMTP_HOST": sink.host,
        "SMTP_PORT": str(sink.port),
        "HTTP_PORT": str(free_port()),
        "NOTIFICATIONS_DIGEST_WINDOW_S": "0",
        "NOTIFICATIONS_STATEMENT_WAIT_S": "0",  # proposals published alone, without their goals
        "NOTIFICATIONS_LEASE_S": "2",
        "NOTIFICATIONS_RETRY_BASE_S": "0.05",
        "LOG_LEVEL": "INFO",
    }


@contextmanager
def service_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.notifications"], env=env, stdout=out, stderr=out
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def publish(settings: KafkaSettings, events: list[tuple[str, EventEnvelope]]) -> None:
    async with kafka_producer(settings, "crash-test") as producer:
        for topic, event in events:
            await producer.send_and_wait(topic, event.to_bytes(), key=event.key.encode())


async def email_row(database_url: str, mentee_id: str) -> asyncpg.Record | None:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchrow(
            "SELECT state, attempts, message_id FROM notifications.emails WHERE mentee_id = $1",
            mentee_id,
        )
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()


@pytest.mark.parametrize("point", POINTS)
async def test_a_kill_at_any_point_never_loses_the_email(
    point: str, kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique, tmp_path
) -> None:
    user, address = f"u-{unique}", f"crash-{unique}@example.org"
    settings = kafka_settings(kafka_endpoint, topic_prefix)
    await ensure_topics(settings, TOPICS)
    proposal_event = match_proposed(proposal(user))
    await publish(
        settings,
        [
            (PROFILES.qualified(topic_prefix), profile_updated(mentee(user, email=address))),
            (PROPOSALS.qualified(topic_prefix), proposal_event),
        ],
    )
    env = service_env(kafka_endpoint, topic_prefix, database_url, smtp_sink)
    log = tmp_path / "service.log"

    with service_process({**env, "NOTIFICATIONS_CRASH_AT": point}, log) as doomed:
        code = await eventually(doomed.poll, timeout=90, interval=0.2, what=f"the kill at {point}")
        assert code == -signal.SIGKILL, log.read_text()[-3000:]

    with service_process(env, log):

        async def sent() -> asyncpg.Record | None:
            row = await email_row(database_url, user)
            return row if row is not None and row["state"] in ("released", "sent") else None

        row = await eventually(sent, timeout=120, interval=0.2, what="the email sent after restart")

    mails = smtp_sink.messages(to=address)
    assert len(mails) == 1, log.read_text()[-3000:]
    if point == "released":  # the server's reply was never read: released, not repeated
        assert (row["state"], row["attempts"]) == ("released", 1)
    assert {m.message_id for m in mails} == {row["message_id"]}
