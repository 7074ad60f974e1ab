"""Wire the matching service: pool, migrations, engines, consumer, outbox relay, HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.matching.adapters.compiled_cache import seed_compiled_cache
from services.matching.adapters.postgres import PostgresUnitOfWork
from services.matching.adapters.state_loader import PostgresStateLoader
from services.matching.domain.events import MENTOR_FEED
from services.matching.domain.warm_up import compile_kernels
from services.matching.entrypoints.admin import admin_router
from services.matching.entrypoints.consumers import PartitionOwnership, build_router
from services.matching.service_layer.handlers import Matching
from services.matching.settings import SCHEMA, SERVICE_NAME, MatchingSettings
from shared.contracts.topics import TOPICS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.http.asyncapi import asyncapi_router
from shared.http.health import (
    health_router,
    kafka_ready,
    metrics_router,
    partitions_assigned,
    postgres_ready,
    tasks_ready,
)
from shared.http.problems import install_problem_handlers
from shared.kafka.broker import build_broker
from shared.kafka.consumer import install_dead_letter
from shared.kafka.producer import kafka_producer
from shared.kafka.topics import ensure_topics
from shared.metrics import instrument, service_refreshers
from shared.outbox import OutboxRelay
from shared.runtime import BackgroundTasks, background_tasks
from shared.startup import check_kafka, check_postgres
from shared.tracing import shutdown, trace_broker, trace_http, tracer_provider

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class MatchingService:
    app: FastAPI
    broker: KafkaBroker
    pool: asyncpg.Pool
    relay: OutboxRelay
    tasks: BackgroundTasks
    matching: Matching
    ownership: PartitionOwnership


def build_broker_for(
    settings: MatchingSettings, matching: Matching, ownership: PartitionOwnership
) -> KafkaBroker:
    """The broker with its subscriber; also used to generate the AsyncAPI document."""
    broker = build_broker(settings.kafka, SERVICE_NAME)
    instrument(broker, SERVICE_NAME)
    dead_letters = install_dead_letter(broker, SERVICE_NAME)
    broker.include_router(build_router(settings.kafka, matching, ownership, dead_letters))
    return broker


def create_app(service: MatchingService, settings: MatchingSettings) -> FastAPI:
    app = FastAPI(title="Mentorlink matching", version="1")
    install_problem_handlers(app)
    app.include_router(asyncapi_router(service.broker, "Mentorlink matching"))
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    app.include_router(admin_router(service.matching, token))
    checks = {
        "postgres": postgres_ready(service.pool),
        "kafka": kafka_ready(service.broker),
        "partitions": partitions_assigned(service.broker),
        "outbox_relay": tasks_ready(service.tasks),
    }
    app.include_router(health_router(checks))
    refreshers = service_refreshers(SERVICE_NAME, service.broker, service.relay.backlog)
    app.include_router(metrics_router(refreshers))
    return app


@asynccontextmanager
async def bootstrap(settings: MatchingSettings) -> AsyncIterator[MatchingService]:
    await check_postgres(settings.db)
    await check_kafka(settings.kafka)
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings.db, SCHEMA)
        stack.push_async_callback(pool.close)
        await apply_migrations(pool, SCHEMA, MIGRATIONS)
        await ensure_topics(settings.kafka, (*TOPICS, MENTOR_FEED))
        producer = await stack.enter_async_context(kafka_producer(settings.kafka, SERVICE_NAME))
        relay = OutboxRelay(pool, producer, SCHEMA)
        tasks = await stack.enter_async_context(background_tasks())
        tasks.start(relay.run(), "outbox-relay")
        matching = Matching(
            PostgresUnitOfWork(pool, settings.kafka.topic_prefix),
            PostgresStateLoader(pool),
            settings.engine_config(),
        )
        seed_compiled_cache(settings.numba_seed_dir, settings.numba_cache_dir)
        await asyncio.to_thread(compile_kernels)  # before any event can wait for it
        ownership = PartitionOwnership(matching)
        broker = build_broker_for(settings, matching, ownership)
        provider = tracer_provider(SERVICE_NAME, settings.tracing)
        matching.tracer = provider.get_tracer("mentorlink.matching") if provider else None
        stack.push_async_callback(shutdown, provider)
        trace_broker(broker, provider)
        await broker.start()
        stack.push_async_callback(broker.stop)
        service = MatchingService(FastAPI(), broker, pool, relay, tasks, matching, ownership)
        service.app = create_app(service, settings)
        trace_http(service.app, provider, SERVICE_NAME)
        yield service
