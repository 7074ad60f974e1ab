"""`make bench-failover`'s faults and its progress probe.

- Broker fault: SIGKILL the Kafka node that leads the partitions holding the most messages of
  this run's topics, keep it down, restart it, wait until every partition has three in-sync
  replicas again.
- Database fault: SIGKILL the PostgreSQL primary's postmaster, promote the standby, keep the
  old primary down, then rebuild it as the new standby (pg_basebackup) and wait until it streams.
- Progress: the services' `mentorlink_events_consumed_total{outcome="ok"}`, sampled a few times a
  second; a fault's gap is the longest stretch without an increase from the fault until the next.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from devenv.cluster import KafkaCluster, PostgresPair
from devenv.processes import ServiceProcess, metric_sum
from shared.kafka.connection import client_kwargs
from shared.settings import KafkaSettings

Log = Callable[[str], None]


async def _partitions(kafka: KafkaSettings) -> list[tuple[str, int, int, int]]:
    """(topic, partition, leader node, in-sync replicas) of this run's topics."""
    admin = AIOKafkaAdminClient(**client_kwargs(kafka))
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(kafka.topic_prefix)]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return [
        (topic["topic"], p["partition"], p["leader"], len(p["isr"]))
        for topic in described
        for p in topic["partitions"]
    ]


async def busiest_leader(kafka: KafkaSettings) -> int:
    """The node leading the partitions that hold the most messages (ties: the most partitions)."""
    partitions = await _partitions(kafka)
    consumer = AIOKafkaConsumer(**client_kwargs(kafka))
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(t, p) for t, p, _, _ in partitions])
    finally:
        await consumer.stop()
    weight: Counter[int] = Counter()
    for topic, partition, leader, _ in partitions:
        weight[leader] += 1 + ends[TopicPartition(topic, partition)]
    return weight.most_common(1)[0][0]


async def under_replicated(kafka: KafkaSettings, replicas: int) -> int:
    return sum(1 for *_, isr in await _partitions(kafka) if isr < replicas)


@dataclass
class Progress:
    """When the platform last handled an event; sampled on a thread."""

    services: dict[str, ServiceProcess]
    interval_s: float = 0.25
    moments: list[float] = field(default_factory=list)  # monotonic times of an increase
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        last: dict[str, float] = {}
        while not self._stop.wait(self.interval_s):
            moved = False
            for service in self.services.values():
                text = service.metrics()
                if not text:  # not answering: no news, not a reset
                    continue
                count = metric_sum(text, "mentorlink_events_consumed_total", outcome="ok")
                moved |= count > last.get(service.name, count)
                last[service.name] = count
            if moved:
                self.moments.append(time.monotonic())

    def gap(self, start: float, end: float) -> float:
        """The longest stretch without progress from `start` until `end` (or the first progress
        after `end`, when the stall outlasted the window)."""
        after = [m for m in self.moments if m > start]
        points, previous, longest = [m for m in after if m <= end], start, 0.0
        if not points or points[-1] < end:
            later = [m for m in after if m > end]
            points += later[:1]
        for moment in points:
            longest = max(longest, moment - previous)
            previous = moment
        if not points:
            longest = time.monotonic() - start
        return longest


@dataclass
class FailoverFaults:
    kafka: KafkaCluster
    postgres: PostgresPair
    settings: KafkaSettings
    down_s: float
    log: Log
    broker_failovers: int = 0
    db_failovers: int = 0
    windows: list[tuple[str, float]] = field(default_factory=list)  # (kind, started)
    errors: list[str] = field(default_factory=list)

    def run(self, plan: list[tuple[float, str]]) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(plan,), daemon=True)
        thread.start()
        return thread

    def _run(self, plan: list[tuple[float, str]]) -> None:
        started = time.monotonic()
        for at, kind in plan:
            time.sleep(max(0.0, started + at - time.monotonic()))
            try:
                self.broker() if kind == "broker" else self.database()
            except Exception as error:  # reported in the result line's exit code
                self.errors.append(f"{kind}: {type(error).__name__}: {error}")
                self.log(f"[red]{kind} fault failed: {error}")

    def broker(self) -> None:
        node = asyncio.run(busiest_leader(self.settings))
        self.windows.append(("broker", time.monotonic()))
        self.kafka.kill(node)
        self.broker_failovers += 1
        self.log(f"SIGKILL Kafka node {node} (leader of the busiest partitions)")
        time.sleep(self.down_s)
        self.kafka.node_at(node).start()
        deadline = time.monotonic() + 120
        while asyncio.run(under_replicated(self.settings, 3)) and time.monotonic() < deadline:
            time.sleep(1)
        self.log(f"Kafka node {node} back; partitions fully replicated again")

    def database(self) -> None:
        old = self.postgres.primary.port
        self.windows.append(("db", time.monotonic()))
        self.postgres.kill_primary()
        self.postgres.promote()
        self.db_failovers += 1
        self.log(f"SIGKILL PostgreSQL primary :{old}; promoted :{self.postgres.primary.port}")
        time.sleep(self.down_s)
        self.postgres.rebuild_standby()
        self.log(f"old primary :{old} rebuilt as the new standby (synchronous again)")
