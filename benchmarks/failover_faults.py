"""`make bench-failover`'s faults and its progress probe.

- Broker faults, on the Kafka node that leads the partitions holding the most messages of this
  run's topics: `kill` SIGKILLs it (a crash: the kernel closes its sockets, clients notice at
  once), keeps it down, restarts it; `freeze` SIGSTOPs it (a machine that vanished: its
  connections stay open and nothing answers, so requests in flight wait for their timeout),
  keeps it frozen, SIGCONTs it. Either way the fault ends when every partition has three in-sync
  replicas again.
- Database fault: SIGKILL the PostgreSQL primary's postmaster, promote the standby, keep the
  old primary down, then rebuild it as the new standby (pg_basebackup) and wait until it streams.
- Progress: the services' `mentorlink_events_consumed_total{outcome="ok"}`, sampled a few times a
  second; a fault's gap is the longest stretch without an increase from the fault until the next.
  Each service's `/readyz` is sampled alongside: the longest stretch a service answered not
  ready (or nothing) is what a Kubernetes readinessProbe would have seen.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from devenv.cluster import KafkaCluster, PostgresPair
from devenv.processes import ServiceProcess, http_get, metric_sum
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
    # The same per service: a stall of one service (matching's group rejoining) hides in the
    # sum while the others go on.
    by_service: dict[str, list[float]] = field(default_factory=dict)
    readiness: list[tuple[float, str, bool]] = field(default_factory=list)  # (when, service, ready)
    # (when, service, answered): a service whose /metrics does not answer shows no progress
    # whatever it does, so its stall may be the probe's blindness, not the service's.
    scrapes: list[tuple[float, str, bool]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        for target in (self._run, self._run_readiness):
            threading.Thread(target=target, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        last: dict[str, float] = {}
        while not self._stop.wait(self.interval_s):
            moved = False
            for service in self.services.values():
                text = service.metrics()
                self.scrapes.append((time.monotonic(), service.name, bool(text)))
                if not text:  # not answering: no news, not a reset
                    continue
                count = metric_sum(text, "mentorlink_events_consumed_total", outcome="ok")
                if count > last.get(service.name, count):
                    moved = True
                    self.by_service.setdefault(service.name, []).append(time.monotonic())
                last[service.name] = count
            if moved:
                self.moments.append(time.monotonic())

    def _run_readiness(self) -> None:
        """On its own thread: a /readyz that is slow to answer must not slow the progress."""
        while not self._stop.wait(self.interval_s):
            for service in self.services.values():
                ready = http_get(service.url("/readyz"), timeout_s=2.0)[0] == 200
                self.readiness.append((time.monotonic(), service.name, ready))

    def gap(self, start: float, end: float) -> float:
        """The longest stretch without progress from `start` on, among the moments before `end`
        (the next fault, or the workload's end). When nothing moved before `end`, the stall
        lasts until the first progress after it."""
        return _longest_stall(self.moments, start, end)

    def gap_span(self, start: float, end: float) -> tuple[float, float]:
        """Where `gap` lies: its (from, to), to find it in the services' logs."""
        return _longest_stall_span(self.moments, start, end)

    def worst_service_gap(self, start: float, end: float) -> float:
        """`gap` for each service on its own; the largest."""
        stalls = [_longest_stall(m, start, end) for m in self.by_service.values()]
        return max(stalls, default=self.gap(start, end))

    def worst_service_span(self, start: float, end: float) -> tuple[str, float, float]:
        """Which service `worst_service_gap` is, and its (from, to), to find it in that
        service's log."""
        spans = [(name, *_longest_stall_span(m, start, end)) for name, m in self.by_service.items()]
        return max(spans, key=lambda span: span[2] - span[1], default=("all", start, start))

    def longest_unready(self, start: float, end: float, service: str | None = None) -> float:
        """The longest stretch any service (or the one named) answered /readyz with other than
        200, among the samples from `start` to `end`; a stretch still open at `end` counts up to
        its end."""
        return _longest_false(self.readiness, start, end, service)

    def longest_unscraped(self, start: float, end: float, service: str | None = None) -> float:
        """The same for /metrics not answering (within the probe's 2 s)."""
        return _longest_false(self.scrapes, start, end, service)


def _longest_false(
    samples: list[tuple[float, str, bool]], start: float, end: float, service: str | None
) -> float:
    longest = 0.0
    since: dict[str, float] = {}
    for moment, name, fine in samples:
        if moment < start or moment > end or service not in (None, name):
            continue
        if not fine:
            since.setdefault(name, moment)
        elif name in since:
            longest = max(longest, moment - since.pop(name))
    return max([longest, *(end - began for began in since.values())])


@dataclass
class FailoverFaults:
    kafka: KafkaCluster
    postgres: PostgresPair
    settings: KafkaSettings
    down_s: float
    freeze_s: float
    log: Log
    broker_failovers: int = 0
    db_failovers: int = 0
    windows: list[tuple[str, float]] = field(default_factory=list)  # (kind, started)
    errors: list[str] = field(default_factory=list)

    finished_at: float = 0.0  # monotonic: when the last victim was back

    def run(self, kinds: list[str], first_s: float, settle_s: float) -> threading.Thread:
        """One fault after another: the first after `first_s`, each next `settle_s` after the
        previous victim is back (so gaps do not overlap)."""
        thread = threading.Thread(target=self._run, args=(kinds, first_s, settle_s), daemon=True)
        thread.start()
        return thread

    def _run(self, kinds: list[str], first_s: float, settle_s: float) -> None:
        time.sleep(first_s)
        for index, kind in enumerate(kinds):
            if index:
                time.sleep(settle_s)
            try:
                self.database() if kind == "db" else self.broker(kind)
            except Exception as error:  # reported in the result line's exit code
                self.errors.append(f"{kind}: {type(error).__name__}: {error}")
                self.log(f"[red]{kind} fault failed: {error}")
        self.finished_at = time.monotonic()

    def broker(self, how: str) -> None:
        """`how`: "kill" or "freeze" (module docstring)."""
        node = asyncio.run(busiest_leader(self.settings))
        self.windows.append((how, time.monotonic()))
        if how == "freeze":
            self.kafka.freeze(node)
            self.log(f"SIGSTOP Kafka node {node} (leader of the busiest partitions)")
        else:
            self.kafka.kill(node)
            self.log(f"SIGKILL Kafka node {node} (leader of the busiest partitions)")
        self.broker_failovers += 1
        time.sleep(self.freeze_s if how == "freeze" else self.down_s)
        if how == "freeze":
            self.kafka.thaw(node)
        else:
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


def _longest_stall(moments: list[float], start: float, end: float) -> float:
    began, ended = _longest_stall_span(moments, start, end)
    return ended - began


def _longest_stall_span(moments: list[float], start: float, end: float) -> tuple[float, float]:
    """(from, to) of the longest stretch without progress (monotonic times)."""
    after = [m for m in moments if m > start]
    points = [m for m in after if m <= end] or after[:1]
    if not points:
        return start, time.monotonic()
    edges = [start, *points]
    return max(itertools.pairwise(edges), key=lambda span: span[1] - span[0])
