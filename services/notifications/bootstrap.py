"""Wire the notifications service: pool, migrations, consumers, dispatcher, HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.notifications.adapters.postgres import PostgresNotificationsStore
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.domain.email import Sender
from services.notifications.entrypoints.consumers import build_router
from services.notifications.service_layer.dispatcher import Dispatcher, DispatchPolicy
from services.notifications.settings import SCHEMA, SERVICE_NAME, NotificationsSettings
from shared.contracts.topics import TOPICS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.http.asyncapi import asyncapi_router
from shared.http.health import health_router, kafka_ready, postgres_ready, tasks_ready
from shared.kafka.broker import build_broker
from shared.kafka.consumer import install_dead_letter
from shared.kafka.topics import ensure_topics
from shared.runtime import BackgroundTasks, background_tasks
from shared.startup import check_kafka, check_postgres

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class NotificationsService:
    app: FastAPI
    broker: KafkaBroker
    pool: asyncpg.Pool
    dispatcher: Dispatcher
    tasks: BackgroundTasks


def build_dispatcher(
    settings: NotificationsSettings, store: PostgresNotificationsStore
) -> Dispatcher:
    sender = Sender(settings.mail_from, settings.reply_to, settings.message_id_domain)
    policy = DispatchPolicy(
        max_attempts=settings.max_attempts,
        retry_base_s=settings.retry_base_s,
        retry_max_s=settings.retry_max_s,
        lease_s=settings.lease_s,
        contact_wait_s=settings.contact_wait_s,
    )
    return Dispatcher(store, SmtpMailer(settings.smtp), sender, policy)


def build_broker_for(
    settings: NotificationsSettings, store: PostgresNotificationsStore, dispatcher: Dispatcher
) -> KafkaBroker:
    broker = build_broker(settings.kafka, SERVICE_NAME)
    install_dead_letter(broker, SERVICE_NAME)
    broker.include_router(
        build_router(settings.kafka, store, settings.message_id_domain, dispatcher.wake)
    )
    return broker


def create_app(pool: asyncpg.Pool, broker: KafkaBroker, tasks: BackgroundTasks) -> FastAPI:
    app = FastAPI(title="Mentorlink notifications", version="1")
    app.include_router(asyncapi_router(broker, "Mentorlink notifications"))
    checks = {"postgres": postgres_ready(pool), "kafka": kafka_ready(broker)}
    app.include_router(health_router({**checks, "dispatcher": tasks_ready(tasks)}))
    return app


@asynccontextmanager
async def bootstrap(settings: NotificationsSettings) -> AsyncIterator[NotificationsService]:
    await check_postgres(settings.db)
    await check_kafka(settings.kafka)
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings.db, SCHEMA)
        stack.push_async_callback(pool.close)
        await apply_migrations(pool, SCHEMA, MIGRATIONS)
        await ensure_topics(settings.kafka, TOPICS)
        store = PostgresNotificationsStore(pool)
        dispatcher = build_dispatcher(settings, store)
        tasks = await stack.enter_async_context(background_tasks())
        tasks.start(dispatcher.run(), "email-dispatcher")
        broker = build_broker_for(settings, store, dispatcher)
        await broker.start()
        stack.push_async_callback(broker.stop)
        app = create_app(pool, broker, tasks)
        yield NotificationsService(app, broker, pool, dispatcher, tasks)
