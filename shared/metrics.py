"""Prometheus metrics written once: consumed/published events, latency, lag, backlog, dead letters.

Every metric carries a `service` label, so the three services can also share one process
(tests, `make dev`). Gauges that cost a query (consumer lag, outbox backlog) are refreshed when
/metrics is scraped, not on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

EVENTS_CONSUMED = Counter(
    "mentorlink_events_consumed_total",
    "Messages handled by a subscriber, by outcome (ok, error).",
    ["service", "topic", "outcome"],
)
PROCESSING_SECONDS = Histogram(
    "mentorlink_event_processing_seconds",
    "Time from receiving a message to finishing its handler (including its transaction).",
    ["service", "topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter(
    "mentorlink_events_published_total",
    "Events the outbox relay published (acknowledged by Kafka).",
    ["service", "topic"],
)
DEAD_LETTERS = Counter(
    "mentorlink_dead_letters_total",
    "Messages sent to a dead-letter topic, by reason.",
    ["service", "topic", "reason"],
)
PARTITION_STALLS = Counter(
    "mentorlink_partition_stalls_total",
    "Times a consumed partition stayed on one message longer than the stall limit.",
    ["service", "topic"],
)
LOOP_RESTARTS = Counter(
    "mentorlink_background_loop_restarts_total",
    "Restarts of a background loop (outbox relay, email dispatcher) after it ended.",
    ["service", "loop"],
)
OUTBOX_BACKLOG = Gauge("mentorlink_outbox_backlog", "Outbox rows not yet published.", ["service"])
INGRESS_STAGED = Gauge(
    "mentorlink_ingress_staged",
    "Ingress commands read from the topic and waiting to be applied (ADR 0006): the ingress "
    "backlog, which consumer lag no longer shows.",
    ["service"],
)
CONSUMER_LAG = Gauge(
    "mentorlink_consumer_lag",
    "Messages between the committed offset and the end of the partition.",
    ["service", "group", "topic", "partition"],
)
GOALS_WAITING = Gauge(
    "mentorlink_goals_waiting",
    "Goals with no mentor to propose (the waiting list), in the partitions this instance owns.",
    ["service"],
)
MENTORS_HELD = Gauge(
    "mentorlink_matching_mentors",
    "Mentors in the matching engines' tables, over every tenant this instance serves: the "
    "mentors a goal can be ranked against now.",
    ["service"],
)
RANKING_RECOMPUTES = Counter(
    "mentorlink_ranking_recomputes_total",
    "Events that changed the matching engine's state and were re-ranked.",
    ["service"],
)
EMAILS = Counter(
    "mentorlink_emails_total", "Email delivery attempts by outcome.", ["service", "outcome"]
)

Refresher = Callable[[], Awaitable[None]]

# A scrape answers within this, whatever its probes wait for: aiokafka retries a committed-offset
# lookup until a group coordinator answers, which a frozen coordinator node never does, and the
# asyncpg pool waits for its connect timeout while the database fails over. Stale gauges for one
# scrape beat no metrics at all during a failover (and beat the scraper's timeout: Prometheus
# gives up after 10 s by default, `make bench-failover`'s probe after 2 s).
REFRESH_TIMEOUT_S = 1.0


class MetricsMiddleware:
    """FastStream middleware factory: count and time every consumed message."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __call__(self, msg: Any, /, **kwargs: Any) -> BaseMiddleware:
        return _MetricsScope(msg, service=self.service, **kwargs)


class _MetricsScope(BaseMiddleware):
    def __init__(self, msg: Any, /, *, service: str, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self._service = service

    async def consume_scope(self, call_next: Any, msg: Any) -> Any:
        """Counts records, not handler calls: a batch subscriber's call counts each of its
        records, and each is observed with the batch's duration (what it waited for)."""
        raw = msg.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        topics = Tally(getattr(r, "topic", "unknown") for r in records)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await call_next(msg)
            outcome = "ok"
            return result
        finally:
            elapsed = time.perf_counter() - started
            for topic, count in topics.items():
                EVENTS_CONSUMED.labels(self._service, topic, outcome).inc(count)
                histogram = PROCESSING_SECONDS.labels(self._service, topic)
                for _ in range(count):
                    histogram.observe(elapsed)


def consumer_lag_refresher(service: str, broker: KafkaBroker) -> Refresher:
    async def refresh() -> None:
        for subscriber in broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            group = getattr(consumer, "_group_id", None)
            if consumer is None or group is None:
                continue
            partitions = list(consumer.assignment())
            if not partitions:
                continue
            # One OffsetFetch for all the consumer's partitions: `committed(tp)` sends one per
            # partition (24 for matching's four topics), and a scrape every 0.5 s then cost
            # the broker more requests than the events did.
            commits = await consumer._coordinator.fetch_committed_offsets(partitions)
            for tp in partitions:
                end = consumer.highwater(tp)
                if end is None:
                    continue
                found = commits.get(tp)
                committed = found.offset if found is not None and found.offset >= 0 else 0
                CONSUMER_LAG.labels(service, group, tp.topic, str(tp.partition)).set(
                    max(0, end - committed)
                )

    return refresh


def backlog_refresher(
    service: str, backlog: Callable[[], Awaitable[int]], gauge: Gauge = OUTBOX_BACKLOG
) -> Refresher:
    async def refresh() -> None:
        gauge.labels(service).set(await backlog())

    return refresh


async def render(refreshers: Mapping[str, Refresher]) -> tuple[bytes, str]:
    """Refresh the scrape-time gauges, at most REFRESH_TIMEOUT_S, together; render all. A probe
    that fails or does not answer in time keeps its gauges' last values."""
    await asyncio.gather(*(_bounded(refresh) for refresh in refreshers.values()))
    return generate_latest(), CONTENT_TYPE_LATEST


async def _bounded(refresh: Refresher) -> None:
    with contextlib.suppress(Exception):  # a down dependency must not break /metrics
        await asyncio.wait_for(refresh(), REFRESH_TIMEOUT_S)


def instrument(broker: KafkaBroker, service: str) -> None:
    broker.add_middleware(MetricsMiddleware(service))


def service_refreshers(
    service: str, broker: KafkaBroker, outbox_backlog: Callable[[], Awaitable[int]]
) -> dict[str, Refresher]:
    return {
        "consumer_lag": consumer_lag_refresher(service, broker),
        "outbox_backlog": backlog_refresher(service, outbox_backlog),
    }
