"""Wire the profile service: pool, migrations, topics, outbox relay, HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from services.profile.adapters.api_keys import ApiKeys
from services.profile.adapters.postgres import PostgresUnitOfWork
from services.profile.entrypoints.asyncapi import document_broker
from services.profile.entrypoints.http import router
from services.profile.settings import SCHEMA, SERVICE_NAME, ProfileSettings
from shared.contracts.topics import TOPICS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.http.asyncapi import asyncapi_router
from shared.http.health import health_router, postgres_ready, tasks_ready
from shared.http.problems import install_problem_handlers
from shared.kafka.producer import kafka_producer
from shared.kafka.topics import ensure_topics
from shared.outbox import OutboxRelay
from shared.runtime import BackgroundTasks, background_tasks
from shared.settings import KafkaSettings
from shared.startup import check_kafka, check_postgres

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class ProfileService:
    app: FastAPI
    pool: asyncpg.Pool
    relay: OutboxRelay
    api_keys: ApiKeys
    tasks: BackgroundTasks


def create_app(pool: asyncpg.Pool, tasks: BackgroundTasks, kafka: KafkaSettings) -> FastAPI:
    app = FastAPI(
        title="Mentorlink profile API",
        version="1",
        description="Integrators create mentor and mentee profiles and set goals here.",
    )
    app.state.uow = PostgresUnitOfWork(pool, kafka.topic_prefix)
    app.state.api_keys = ApiKeys(pool)
    install_problem_handlers(app)
    app.include_router(router)
    app.include_router(asyncapi_router(document_broker(kafka), "Mentorlink profile"))
    app.include_router(
        health_router({"postgres": postgres_ready(pool), "outbox_relay": tasks_ready(tasks)})
    )
    return app


@asynccontextmanager
async def bootstrap(settings: ProfileSettings) -> AsyncIterator[ProfileService]:
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
        app = create_app(pool, tasks, settings.kafka)
        yield ProfileService(app, pool, relay, app.state.api_keys, tasks)
