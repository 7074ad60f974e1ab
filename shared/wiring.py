"""What every service's bootstrap.py wires the same way, written once.

`service_core` checks the dependencies, opens the pool, applies the migrations, creates the
topics, starts the producer and the supervised outbox relay, and sets up tracing. The service's
own bootstrap.py then builds its handlers, `new_broker` gives it a broker with metrics, dead
letters and tracing, and `install_operations` adds AsyncAPI, /healthz, /readyz and /metrics.
Everything is closed in the reverse order it was opened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider

from shared.contracts.topics import TopicSpec
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.http.asyncapi import asyncapi_router
from shared.http.health import (
    ReadinessCheck,
    health_router,
    kafka_ready,
    loops_running,
    metrics_router,
    partitions_assigned,
    partitions_progressing,
    postgres_ready,
)
from shared.kafka.broker import build_broker, start_broker
from shared.kafka.consumer import install_dead_letter
from shared.kafka.dead_letter import DeadLetterMiddleware
from shared.kafka.producer import kafka_producer
from shared.kafka.progress import PartitionProgress
from shared.kafka.retry import RetryPolicy
from shared.kafka.topics import ensure_topics
from shared.metrics import Refresher, instrument, service_refreshers
from shared.outbox import OutboxRelay
from shared.settings import ReliabilitySettings, ServiceSettings
from shared.startup import check_kafka, check_postgres
from shared.supervision import Loop, SupervisionPolicy, Supervisor, supervisor
from shared.tracing import shutdown, trace_broker, trace_http, tracer_provider


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    schema: str
    migrations: Path
    topics: Sequence[TopicSpec]
    custom_plans: bool = False  # each statement planned for its arguments (db/pool.py)


def retry_policy(settings: ReliabilitySettings) -> RetryPolicy:
    return RetryPolicy(settings.poison_max_attempts, settings.retry_base_s, settings.retry_max_s)


def supervision_policy(settings: ReliabilitySettings) -> SupervisionPolicy:
    return SupervisionPolicy(
        restart_base_s=settings.loop_restart_base_s,
        restart_max_s=settings.loop_restart_max_s,
        stable_after_s=settings.loop_stable_after_s,
        unhealthy_after_s=settings.loop_unhealthy_after_s,
    )


@dataclass
class ServiceCore:
    spec: ServiceSpec
    settings: ServiceSettings
    stack: AsyncExitStack
    pool: asyncpg.Pool
    relay: OutboxRelay
    loops: Supervisor
    provider: TracerProvider | None
    progress: PartitionProgress = field(init=False)

    def __post_init__(self) -> None:
        stall = self.settings.reliability.partition_stall_after_s
        self.progress = PartitionProgress(self.spec.name, stall)

    def start_loop(self, name: str, loop: Loop) -> None:
        """Supervise `loop`; it is stopped before anything opened before it is closed."""
        self.loops.start(name, loop)
        self.stack.push_async_callback(self.loops.stop, name)

    def new_broker(self) -> tuple[KafkaBroker, DeadLetterMiddleware]:
        name = self.spec.name
        broker = build_broker(self.settings.kafka, name)
        instrument(broker, name)
        retry = retry_policy(self.settings.reliability)
        dead_letters = install_dead_letter(broker, name, retry, self.progress)
        trace_broker(broker, self.provider)
        return broker, dead_letters

    async def start_broker(self, broker: KafkaBroker) -> None:
        await start_broker(broker)
        self.stack.push_async_callback(broker.stop)

    def install_operations(
        self,
        app: FastAPI,
        broker: KafkaBroker,
        title: str,
        documented: KafkaBroker | None = None,
        refreshers: Mapping[str, Refresher] | None = None,
    ) -> None:
        """AsyncAPI (of `documented`, else `broker`), health, readiness, metrics (with the
        service's own scrape-time `refreshers`), HTTP traces."""
        app.include_router(asyncapi_router(documented or broker, title))
        checks: dict[str, ReadinessCheck] = {
            "postgres": postgres_ready(self.pool),
            "kafka": kafka_ready(broker),
            "partitions": partitions_assigned(broker),
            "partitions_progressing": partitions_progressing(broker, self.progress),
            "background_loops": loops_running(self.loops),
        }
        app.include_router(health_router(checks, self.loops))
        common = service_refreshers(self.spec.name, broker, self.relay.backlog)
        app.include_router(metrics_router({**common, **(refreshers or {})}))
        trace_http(app, self.provider, self.spec.name)


@asynccontextmanager
async def service_core(spec: ServiceSpec, settings: ServiceSettings) -> AsyncIterator[ServiceCore]:
    await check_postgres(settings.db)
    await check_kafka(settings.kafka)
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings.db, spec.schema, spec.custom_plans)
        stack.push_async_callback(pool.close)
        await apply_migrations(pool, spec.schema, spec.migrations)
        await ensure_topics(settings.kafka, spec.topics)
        producer = await stack.enter_async_context(kafka_producer(settings.kafka, spec.name))
        relay = OutboxRelay(pool, producer, spec.schema)
        policy = supervision_policy(settings.reliability)
        loops = await stack.enter_async_context(supervisor(spec.name, policy))
        provider = tracer_provider(spec.name, settings.tracing)
        stack.push_async_callback(shutdown, provider)
        core = ServiceCore(spec, settings, stack, pool, relay, loops, provider)
        core.start_loop("outbox-relay", relay.run)
        yield core
