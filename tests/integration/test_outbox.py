"""The outbox publishes exactly the committed changes, keyed by user, in order."""

from __future__ import annotations

from pathlib import Path

from shared.contracts.profiles import ProfileDeleted, ProfileDeletedPayload
from shared.contracts.topics import PROFILES
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.kafka.producer import kafka_producer
from shared.kafka.topics import ensure_topics
from shared.outbox import OutboxBatch, OutboxRelay, add_to_outbox
from shared.settings import DatabaseSettings
from tests.support.kafka import header, read_all
from tests.support.platform import kafka_settings
from tests.support.polling import eventually


class Rollback(Exception):
    pass


def _deleted(user_id: str) -> ProfileDeleted:
    return ProfileDeleted(
        tenant_id="acme", key=user_id, payload=ProfileDeletedPayload(user_id=user_id)
    )


async def test_relay_publishes_committed_events_only_and_empties_the_outbox(
    kafka_endpoint, database_url, topic_prefix, tmp_path: Path
) -> None:
    kafka = kafka_settings(kafka_endpoint, topic_prefix)
    await ensure_topics(kafka, [PROFILES])
    topic = PROFILES.qualified(topic_prefix)
    pool = await create_pool(DatabaseSettings(database_url=database_url), "outbox_test")
    try:
        await apply_migrations(pool, "outbox_test", tmp_path)
        committed = [_deleted(f"u{i}") for i in range(5)]
        async with pool.acquire() as conn:
            async with conn.transaction():
                for event in committed:
                    await add_to_outbox(conn, topic, event)
            try:
                async with conn.transaction():
                    await add_to_outbox(conn, topic, _deleted("rolled-back"))
                    raise Rollback
            except Rollback:
                pass

        async with kafka_producer(kafka, "outbox-test") as producer:
            relay = OutboxRelay(pool, producer, "outbox_test")
            async with pool.acquire() as other, other.transaction():
                # another instance's relay holds the schema's lock: this one publishes nothing
                await other.execute(
                    "SELECT pg_advisory_xact_lock(hashtext($1))", "outbox:outbox_test"
                )
                assert await relay.relay_once() == 0
                assert await relay.backlog() == 5
            assert await relay.relay_once() == 5
            assert await relay.backlog() == 0

        records = await eventually(
            lambda: read_all(kafka, topic), timeout=30, what="relayed events"
        )
        assert sorted(r.key for r in records) == sorted(e.key.encode() for e in committed)
        assert {header(r, "event_id") for r in records} == {str(e.event_id) for e in committed}
        assert all(header(r, "event_type") == "ProfileDeleted" for r in records)
        assert b"rolled-back" not in b"".join(r.value for r in records)
    finally:
        await pool.close()


async def test_a_batch_keeps_its_rows_order_in_one_statement(
    database_url: str, tmp_path: Path
) -> None:
    """Events, a tombstone, fan-out copies and a dead letter, written by one statement with
    its NOTIFY: the ids follow the order they were added in (the relay publishes by id)."""
    pool = await create_pool(DatabaseSettings(database_url=database_url), "outbox_batch")
    try:
        await apply_migrations(pool, "outbox_batch", tmp_path)
        batch = OutboxBatch()
        expected = []
        for n in range(30):
            event = _deleted(f"u{n}")
            if n % 7 == 3:
                batch.add_tombstone("t.profiles", f"acme:u{n}".encode(), "acme")
                expected.append(("t.profiles", f"acme:u{n}".encode(), None, None))
            else:
                batch.add("t.profiles", event, partition=n % 3 or None)
                expected.append(("t.profiles", event.key.encode(), event.to_bytes(), n % 3 or None))
        woken: list[str] = []

        def wake(*args: object) -> None:
            woken.append(str(args[-1]))

        async with pool.acquire() as conn:
            await conn.add_listener("mentorlink_outbox", wake)
            async with pool.acquire() as writer, writer.transaction():
                await batch.write(writer)
            rows = await conn.fetch("SELECT topic, key, value, partition FROM outbox ORDER BY id")
            assert [tuple(r) for r in rows] == expected
            await eventually(lambda: woken, timeout=10, what="the relay's wake-up")
            await conn.remove_listener("mentorlink_outbox", wake)
        assert woken == ["outbox_batch"]
    finally:
        await pool.close()
