"""`make bench-failover`'s canary: how long one partition stays unusable across a fault.

The services' progress (benchmarks/failover_faults.py `Progress`) shows when the platform as a
whole stood still. A fault that stalls only the partitions one node leads hides there: the
other partitions keep the counters moving. The canary writes one record to every partition of
its own topic (replication 3, `min.insync.replicas` 2, the services' producer settings) each
`interval_s`, retries a failed send with the same first-attempt time, as the outbox relay does,
and reads them back with the services' client settings. A record's delay is from its first send
attempt to its arrival at the reader; a fault's figure is the largest delay of the records
first sent in its window.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.kafka.connection import client_kwargs, producer_kwargs
from shared.settings import KafkaSettings


@dataclass
class Canary:
    kafka: KafkaSettings
    interval_s: float = 0.5
    delays: list[tuple[float, float]] = field(default_factory=list)  # (first attempt, delay)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def topic(self) -> str:
        return self.kafka.group("failover-canary")

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def worst(self, start: float, end: float) -> float:
        """The largest delay among the records first sent from `start` until `end`."""
        return max((d for sent, d in self.delays if start <= sent < end), default=float("nan"))

    async def _run(self) -> None:
        await self._create_topic()
        partitions = [TopicPartition(self.topic, p) for p in range(self.kafka.partitions)]
        producer = AIOKafkaProducer(client_id="failover-canary", **producer_kwargs(self.kafka))
        reader = AIOKafkaConsumer(**client_kwargs(self.kafka), enable_auto_commit=False)
        await producer.start()
        await reader.start()
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        writers = [asyncio.create_task(self._write(producer, p.partition)) for p in partitions]
        try:
            while not self._stop.is_set():
                batches = await reader.getmany(timeout_ms=200)
                arrived = time.monotonic()
                for records in batches.values():
                    for record in records:
                        sent = float(record.value or b"nan")
                        self.delays.append((sent, arrived - sent))
        finally:
            for writer in writers:
                writer.cancel()
            with contextlib.suppress(Exception):
                await producer.stop()
            with contextlib.suppress(Exception):
                await reader.stop()

    async def _write(self, producer: AIOKafkaProducer, partition: int) -> None:
        while not self._stop.is_set():
            first = time.monotonic()
            value = repr(first).encode()
            while not self._stop.is_set():
                try:
                    await producer.send_and_wait(self.topic, value, partition=partition)
                    break
                except Exception:  # not acknowledged: send again, as the outbox does
                    await asyncio.sleep(0.1)
            await asyncio.sleep(max(0.0, first + self.interval_s - time.monotonic()))

    async def _create_topic(self) -> None:
        admin = AIOKafkaAdminClient(**client_kwargs(self.kafka))
        await admin.start()
        try:
            config = {"min.insync.replicas": str(self.kafka.min_insync_replicas)}
            replication = self.kafka.replication_factor
            topic = NewTopic(self.topic, self.kafka.partitions, replication, topic_configs=config)
            await admin.create_topics([topic])
        finally:
            await admin.close()
