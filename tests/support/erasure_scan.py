"""Look for erased people everywhere the platform keeps data: every column of every table of
the three schemas (binary and JSON columns decoded) and every record of every topic, dead-letter
topics included (key, value and headers)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import asyncpg
from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka.connection import client_kwargs
from shared.kafka.topics import topic_level_configs
from shared.settings import KafkaSettings
from tests.support.kafka import read_all

SCHEMAS = ("profile", "matching", "notifications")


def _readable(column: str, data_type: str) -> str:
    """A column as text in which an id shows as itself: bytea through the escape encoding
    (printable bytes stay as they are; `::text` would print hex), the rest as text."""
    quoted = f'"{column}"'
    if data_type == "bytea":
        return f"encode({quoted}, 'escape')"
    return f"{quoted}::text"


async def rows_mentioning(database_url: str, needles: list[str]) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        columns = await conn.fetch(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type"
            " FROM information_schema.columns c JOIN information_schema.tables t"
            " USING (table_schema, table_name)"
            " WHERE c.table_schema = ANY($1) AND t.table_type = 'BASE TABLE'"
            " ORDER BY c.table_schema, c.table_name, c.ordinal_position",
            list(SCHEMAS),
        )
        tables: dict[str, list[str]] = {}
        for c in columns:
            name = f'"{c["table_schema"]}"."{c["table_name"]}"'
            tables.setdefault(name, []).append(_readable(c["column_name"], c["data_type"]))
        found = []
        for name, readable in tables.items():
            rows = await conn.fetch(f"SELECT concat_ws(' | ', {', '.join(readable)}) FROM {name}")
            found += [f"{name}: {r[0][:200]}" for r in rows if any(n in r[0] for n in needles)]
        return found
    finally:
        await conn.close()


@dataclass(frozen=True)
class Mention:
    """A record that mentions an erased person, and whether it is the erasure's own."""

    topic: str
    record: ConsumerRecord[bytes, bytes]

    @property
    def erasure_notice(self) -> bool:
        """A tombstone, the ProfileDeleted, or matching's fan-out of the deletion."""
        if self.record.value is None:
            return True
        try:
            event = json.loads(self.record.value)
        except ValueError:
            return False
        kind = event.get("event_type") if isinstance(event, dict) else None
        reason = (event.get("payload") or {}).get("reason") if isinstance(event, dict) else None
        return kind == "ProfileDeleted" or (kind == "MentorChanged" and reason == "deleted")

    def __str__(self) -> str:
        r = self.record
        value = (r.value or b"")[:120]
        return f"{self.topic}[{r.partition}]@{r.offset} key={r.key!r} value={value!r}"


def _mentions(record: ConsumerRecord[bytes, bytes], needle: bytes) -> bool:
    parts = [record.key or b"", record.value or b""]
    parts += [k.encode() + b"=" + v for k, v in record.headers or ()]
    return any(needle in part for part in parts)


async def topic_mentions(kafka: KafkaSettings, needles: list[str]) -> list[Mention]:
    """Every record, on every topic of the platform (its prefix), that mentions a needle."""
    names = await platform_topics(kafka)
    found = []
    for topic in names:
        for record in await read_all(kafka, topic):
            if any(_mentions(record, n.encode()) for n in needles):
                found.append(Mention(topic, record))
    return found


async def platform_topics(kafka: KafkaSettings) -> list[str]:
    admin = AIOKafkaAdminClient(**client_kwargs(kafka))
    await admin.start()
    try:
        return sorted(t for t in await admin.list_topics() if t.startswith(kafka.topic_prefix))
    finally:
        await admin.close()


async def topic_policies(kafka: KafkaSettings, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(**client_kwargs(kafka))
    await admin.start()
    try:
        return await topic_level_configs(admin, names)
    finally:
        await admin.close()


async def outboxes_empty(database_url: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        counts = [await conn.fetchval(f'SELECT count(*) FROM "{s}".outbox') for s in SCHEMAS]
    finally:
        await conn.close()
    return not any(counts)
