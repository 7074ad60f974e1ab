"""Read a dead-letter topic: where each letter came from and why, without its payload."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from ops.kafka_clients import admin_client, partitions_of, reader
from shared.erasure import REPLAY_DEAD_LETTERED_MS
from shared.settings import KafkaSettings

DLQ_HEADER_PREFIX = "x-dlq-"
REPLAYED_FROM = "x-replayed-from"
REPLAY_OF = "x-replay-of"

Position = tuple[int, int]  # (partition, offset)


def parse_position(text: str, partition: int | None = None) -> Position:
    """`3:17` (partition:offset, as `dlq list` prints it) or `17` with an explicit partition."""
    head, colon, tail = text.partition(":")
    try:
        if colon:
            return int(head), int(tail)
        if partition is None:
            raise ValueError
        return partition, int(head)
    except ValueError:
        raise ValueError(
            f"{text!r}: give PARTITION:OFFSET (offsets are per partition), or --partition"
        ) from None


@dataclass(frozen=True)
class DeadLetterRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def from_record(cls, record: ConsumerRecord[bytes, bytes]) -> DeadLetterRecord:
        headers = tuple((k, v.decode(errors="replace")) for k, v in record.headers or ())
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.timestamp,
            record.key,
            record.value or b"",
            headers,
        )

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key == name), "")

    @property
    def position(self) -> Position:
        return self.partition, self.offset

    @property
    def reference(self) -> str:
        """What the replayed copy carries in x-replayed-from."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def source_topic(self) -> str:
        return self.header("x-dlq-source-topic")

    @property
    def source_partition(self) -> int | None:
        text = self.header("x-dlq-partition")
        return int(text) if text.isdigit() else None

    @property
    def original(self) -> str:
        """The failed message's own position: two services' letters for it share this."""
        return f"{self.source_topic}:{self.header('x-dlq-partition')}:{self.header('x-dlq-offset')}"

    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The original headers (correlation id …) without the dead-letter ones, plus markers."""
        kept = [(k, v) for k, v in self.headers if not k.startswith(DLQ_HEADER_PREFIX)]
        kept = [(k, v) for k, v in kept if k not in (REPLAYED_FROM, REPLAY_OF)]
        # the first failure's time, should a replayed copy fail and be replayed again
        failed = [int(v) for k, v in kept if k == REPLAY_DEAD_LETTERED_MS and v.isdigit()]
        kept = [(k, v) for k, v in kept if k != REPLAY_DEAD_LETTERED_MS]
        kept += [(REPLAYED_FROM, self.reference), (REPLAY_OF, self.original)]
        kept += [(REPLAY_DEAD_LETTERED_MS, str(min([*failed, self.timestamp_ms])))]
        return [(k, v.encode()) for k, v in kept]


async def read_topic(
    settings: KafkaSettings,
    topic: str,
    since_ms: int | None = None,
    partition: int | None = None,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record up to the current end (from `since_ms` on, if given)."""
    async with admin_client(settings) as admin:
        numbers = await partitions_of(admin, topic)
    async with reader(settings) as consumer:
        return await _read_assigned(consumer, topic, numbers, since_ms, partition)


async def _read_assigned(
    consumer: AIOKafkaConsumer,
    topic: str,
    numbers: list[int],
    since_ms: int | None,
    partition: int | None,
) -> list[ConsumerRecord[bytes, bytes]]:
    assigned = [TopicPartition(topic, p) for p in numbers if partition in (None, p)]
    if not assigned:
        return []
    consumer.assign(assigned)
    starts = await consumer.beginning_offsets(assigned)
    ends = await consumer.end_offsets(assigned)
    for tp in assigned:
        consumer.seek(tp, await _first_offset(consumer, tp, since_ms, starts[tp], ends[tp]))
    records: list[ConsumerRecord[bytes, bytes]] = []
    while pending := [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
        batch = await consumer.getmany(*pending, timeout_ms=500)
        for tp, chunk in batch.items():
            records.extend(r for r in chunk if r.offset < ends[tp])
    return records


async def _first_offset(
    consumer: AIOKafkaConsumer, tp: TopicPartition, since_ms: int | None, start: int, end: int
) -> int:
    """An explicit offset: seek_to_beginning() can lose a race with the initial offset reset."""
    if since_ms is None:
        return start
    found = (await consumer.offsets_for_times({tp: since_ms}))[tp]
    return found.offset if found else end


async def read_dead_letters(settings: KafkaSettings, topic: str) -> list[DeadLetterRecord]:
    records = await read_topic(settings, topic)
    letters = [DeadLetterRecord.from_record(r) for r in records]
    return sorted(letters, key=lambda letter: letter.position)
