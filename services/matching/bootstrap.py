"""Wire the matching service: pool, migrations, consumers, outbox relay, HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.matching.adapters.postgres import PostgresUnitOfWork
from services.matching.entrypoints.consumers import build_router
from services.matching.settings import SCHEMA, SERVICE_NAME, MatchingSettings
from shared.contracts.topics import TOPICS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.http.asyncapi import asyncapi_router
from shared.http.health import health_router, kafka_ready, postgres_ready, tasks_ready
from shared.kafka.broker import build_broker
from shared.kafka.consumer import install_dead_letter
from shared.kafka.producer import kafka_producer
from shared.kafka.topics import ensure_topics
from shared.outbox import OutboxRelay
from shared.runtime import BackgroundTasks, background_tasks
from shared.startup import check_kafka, check_postgres

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class MatchingService:
    app: FastAPI
    broker: KafkaBroker
    pool: asyncpg.Pool
    relay: OutboxRelay
    tasks: BackgroundTasks


def build_broker_for(settings: MatchingSettings, uow: PostgresUnitOfWork) -> KafkaBroker:
    """The broker with its subscribers; also used to generate the AsyncAPI document."""
    broker = build_broker(settings.kafka, SERVICE_NAME)
    install_dead_letter(broker, SERVICE_NAME)
    broker.include_router(build_router(settings.kafka, uow, settings.top_k))
    return broker


def create_app(pool: asyncpg.Pool, broker: KafkaBroker, tasks: BackgroundTasks) -> FastAPI:
    app = FastAPI(title="Mentorlink matching", version="1")
    app.include_router(asyncapi_router(broker, "Mentorlink matching"))
    checks = {"postgres": postgres_ready(pool), "kafka": kafka_ready(broker)}
    app.include_router(health_router({**checks, "outbox_relay": tasks_ready(tasks)}))
    return app


@asynccontextmanager
async def bootstrap(settings: MatchingSettings) -> AsyncIterator[MatchingService]:
    await check_postgres(settings.db)
    await check_kafka(settings.kafka)
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings.db, SCHEMA)
        stack.push_async_callback(pool.close)
        await apply_migrations(pool, SCHEMA, MIGRATIONS)
        await ensure_topics(settings.kafka, TOPICS)
        producer = await stack.enter_async_context(kafka_producer(settings.kafka, SERVICE_NAME))
        relay = OutboxRelay(pool, producer, SCHEMA)
        tasks = await stack.enter_async_context(background_tasks())
        tasks.start(relay.run(), "outbox-relay")
        broker = build_broker_for(settings, PostgresUnitOfWork(pool, settings.kafka.topic_prefix))
        await broker.start()
        stack.push_async_callback(broker.stop)
        yield MatchingService(create_app(pool, broker, tasks), broker, pool, relay, tasks)
