"""Wire the profile service: pool, migrations, topics, outbox relay, ingress consumer, HTTP app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.profile.adapters.api_keys import ApiKeys
from services.profile.adapters.postgres import PostgresUnitOfWork
from services.profile.adapters.postgres_requests import purge_expired_requests
from services.profile.entrypoints import http_goals, http_links, http_profiles
from services.profile.entrypoints.asyncapi import document_broker
from services.profile.entrypoints.http_limits import BodySizeLimit
from services.profile.entrypoints.http_support import install_domain_problems
from services.profile.entrypoints.ingress import build_ingress_router
from services.profile.settings import SCHEMA, SERVICE_NAME, ProfileSettings
from shared.contracts.topics import TOPICS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.errors import TRANSIENT_ERRORS
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
log = logging.getLogger(__name__)


@dataclass
class ProfileService:
    app: FastAPI
    pool: asyncpg.Pool
    relay: OutboxRelay
    api_keys: ApiKeys
    broker: KafkaBroker
    tasks: BackgroundTasks


def create_app(
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    tasks: BackgroundTasks,
    settings: ProfileSettings,
    relay: OutboxRelay,
) -> FastAPI:
    app = FastAPI(
        title="Mentorlink profile API",
        version="1",
        description="Integrators create mentor and mentee profiles and set goals here; "
        "mentees answer proposal emails here. See docs/integrators.md.",
    )
    app.state.uow = PostgresUnitOfWork(pool, settings.kafka.topic_prefix)
    app.state.api_keys = ApiKeys(pool)
    app.state.link_keys = settings.links.keys()
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_problem_handlers(app)
    install_domain_problems(app)
    for router in (http_profiles.router, http_goals.router, http_links.router):
        app.include_router(router)
    app.include_router(asyncapi_router(document_broker(settings.kafka), "Mentorlink profile"))
    checks = {
        "postgres": postgres_ready(pool),
        "kafka": kafka_ready(broker),
        "partitions": partitions_assigned(broker),
    }
    app.include_router(health_router({**checks, "outbox_relay": tasks_ready(tasks)}))
    app.include_router(metrics_router(service_refreshers(SERVICE_NAME, broker, relay.backlog)))
    return app


async def purge_idempotency_keys(pool: asyncpg.Pool, window_s: float) -> None:
    """Forget Idempotency-Key answers older than the replay window, hourly."""
    while True:
        try:
            async with pool.acquire() as conn:
                await purge_expired_requests(conn, window_s)
        except TRANSIENT_ERRORS as exc:
            log.warning("idempotency purge skipped: %s", type(exc).__name__)
        await asyncio.sleep(3600)


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
        tasks.start(purge_idempotency_keys(pool, settings.idempotency_window_s), "idem-purge")
        broker = build_broker(settings.kafka, SERVICE_NAME)
        instrument(broker, SERVICE_NAME)
        provider = tracer_provider(SERVICE_NAME, settings.tracing)
        stack.push_async_callback(shutdown, provider)
        trace_broker(broker, provider)
        install_dead_letter(broker, SERVICE_NAME)
        broker.include_router(
            build_ingress_router(
                settings.kafka, PostgresUnitOfWork(pool, settings.kafka.topic_prefix)
            )
        )
        await broker.start()
        stack.push_async_callback(broker.stop)
        app = create_app(pool, broker, tasks, settings, relay)
        trace_http(app, provider, SERVICE_NAME)
        yield ProfileService(app, pool, relay, app.state.api_keys, broker, tasks)
