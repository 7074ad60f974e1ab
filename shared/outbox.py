"""Transactional outbox: write events with the change, relay them to Kafka after commit.

`add_to_outbox` runs inside the caller's transaction, so an event exists exactly when its
change committed. `OutboxRelay` publishes rows in id order (one relay at a time per schema,
held by an advisory lock, so per-key order survives several instances) and deletes them only
after Kafka acknowledged them. A crash between the two republishes: consumers drop the copy by
event id. The relay wakes on NOTIFY from the committing transaction and polls as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.contracts.envelope import EventEnvelope
from shared.db.types import DbConnection
from shared.errors import TRANSIENT_ERRORS
from shared.kafka.dead_letter import DeadLetter
from shared.metrics import EVENTS_PUBLISHED
from shared.supervision import Heartbeat
from shared.tracing import inject_trace_context

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "mentorlink_outbox"


def event_headers(event: EventEnvelope) -> dict[str, str]:
    headers: dict[str, str] = {
        "event_type": event.event_type,
        "schema_version": str(event.schema_version),
        "event_id": str(event.event_id),
        "tenant_id": event.tenant_id,
        "content-type": "application/json",
    }
    if event.correlation_id:
        headers["correlation_id"] = event.correlation_id
    inject_trace_context(headers)  # no-op unless a span is current (tracing on)
    return headers


async def add_to_outbox(
    conn: DbConnection,
    topic: str,
    event: EventEnvelope,
    partition: int | None = None,
    key: bytes | None = None,
) -> None:
    """Queue `event` for `topic`, keyed by `key` (default `event.key`), in the caller's
    transaction.

    `partition` overrides the key's partition (fan-out to every partition of a topic).
    """
    batch = OutboxBatch()
    batch.add(topic, event, partition, key)
    await batch.write(conn)


async def add_tombstone(conn: DbConnection, topic: str, key: bytes, tenant_id: str) -> None:
    """Queue a tombstone (a null value) for `key` on a compacted `topic`: compaction then
    removes the key's earlier records. The tenant header says whose key it is."""
    batch = OutboxBatch()
    batch.add_tombstone(topic, key, tenant_id)
    await batch.write(conn)


async def add_dead_letter(conn: DbConnection, letter: DeadLetter) -> None:
    """Queue a dead letter decided inside a transaction (its original bytes, reason headers)."""
    batch = OutboxBatch()
    batch.add_dead_letter(letter)
    await batch.write(conn)


# The batch's rows in one statement, in their order (ORDER BY n: the id's default is taken
# after the sort, so ids follow the rows), and the relay's wake-up with it: one round trip
# and one execution on the server, where `executemany` and a NOTIFY ran one per row and one.
WRITE_BATCH = (
    "WITH written AS (INSERT INTO outbox (topic, key, value, headers, partition)"
    " SELECT topic, key, value, headers::jsonb, partition"
    " FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[], $5::int[])"
    " WITH ORDINALITY AS row_(topic, key, value, headers, partition, n) ORDER BY n"
    " RETURNING 1)"
    " SELECT pg_notify($6, current_schema())"
)


class OutboxBatch:
    """Outbox rows gathered during a transaction and written together before its commit: one
    statement (`WRITE_BATCH`) instead of two round trips per event. Headers are taken when a
    row is added, so each row keeps the trace that was current then."""

    def __init__(self) -> None:
        self._rows: list[tuple[str, bytes | None, bytes | None, str, int | None]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(
        self,
        topic: str,
        event: EventEnvelope,
        partition: int | None = None,
        key: bytes | None = None,
    ) -> None:
        headers = json.dumps(event_headers(event))
        record_key = event.key.encode() if key is None else key
        self._rows.append((topic, record_key, event.to_bytes(), headers, partition))

    def add_tombstone(self, topic: str, key: bytes, tenant_id: str) -> None:
        self._rows.append((topic, key, None, json.dumps({"tenant_id": tenant_id}), None))

    def add_dead_letter(self, letter: DeadLetter) -> None:
        headers = json.dumps(letter.headers())
        self._rows.append((letter.topic, letter.key, letter.value, headers, None))

    def extend(self, other: OutboxBatch) -> None:
        """Take `other`'s rows after these (and leave it empty)."""
        self._rows.extend(other._rows)
        other._rows = []

    async def write(self, conn: DbConnection) -> None:
        if not self._rows:
            return
        columns = [list(column) for column in zip(*self._rows, strict=True)]
        await conn.execute(WRITE_BATCH, *columns, NOTIFY_CHANNEL)
        self._rows = []


# The relay's lock and its batch in one statement: a WITH query that calls a volatile
# function is evaluated once, and no row comes back unless the lock was taken.
RELAY_BATCH = (
    "WITH relay AS (SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked)"
    " SELECT id, topic, key, value, headers, partition FROM relay, outbox"
    " WHERE relay.locked ORDER BY id LIMIT $2"
)


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        schema: str,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    async def backlog(self) -> int:
        return int(await self._pool.fetchval("SELECT count(*) FROM outbox"))

    async def run(self, heartbeat: Heartbeat | None = None) -> None:
        """Relay until cancelled; beats `heartbeat` on every turn (shared/supervision.py)."""
        beat = heartbeat or Heartbeat()
        listener = asyncio.create_task(self._listen(), name=f"outbox-listen-{self._schema}")
        failures = 0
        try:
            while True:
                beat.beat()
                try:
                    sent = await self.relay_once()
                    failures = 0
                except Exception as exc:
                    # Besides outages (TRANSIENT_ERRORS), a broker or pool recovering from one
                    # raises others (LeaderNotAvailable, asyncpg state errors); rows stay queued.
                    failures += 1
                    log.warning("outbox relay waiting for a dependency: %s", type(exc).__name__)
                    await asyncio.sleep(min(5.0, 0.1 * 2**failures))
                    continue
                if sent == self._batch_size:
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(RELAY_BATCH, f"outbox:{self._schema}", self._batch_size)
            if not rows:  # nothing queued, or another relay holds the lock
                return 0
            await self._publish(rows)
            await conn.execute(
                "DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
            )
        self.published += len(rows)
        return len(rows)

    async def _publish(self, rows: list[asyncpg.Record]) -> None:
        futures = []
        for row in rows:
            headers: Mapping[str, str] = json.loads(row["headers"])
            futures.append(
                await self._producer.send(
                    row["topic"],
                    value=row["value"],
                    key=row["key"],
                    partition=row["partition"],
                    headers=[(k, v.encode()) for k, v in headers.items()],
                )
            )
        await asyncio.gather(*futures)
        for row in rows:
            EVENTS_PUBLISHED.labels(self._schema, row["topic"]).inc()

    async def _listen(self) -> None:
        """Keep a LISTEN connection open so commits wake the relay at once. Only a wake-up: any
        failure falls back to the relay's polling until the next try, and never ends it."""
        while True:
            try:
                await self._listen_until_closed()
            except Exception as exc:
                log.warning("outbox listener reconnecting: %s", type(exc).__name__)
            self._wake.set()  # catch up on anything committed while not listening
            await asyncio.sleep(1.0)

    async def _listen_until_closed(self) -> None:
        closed = asyncio.Event()
        async with self._pool.acquire() as conn:
            conn.add_termination_listener(lambda _conn: closed.set())
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            try:
                await closed.wait()
            finally:
                with contextlib.suppress(*TRANSIENT_ERRORS):
                    await conn.remove_listener(NOTIFY_CHANNEL, self._on_notify)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if payload == self._schema:
            self._wake.set()
