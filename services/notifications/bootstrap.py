"""Wire the notifications service: pool, migrations, consumers, dispatcher, relay, HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.notifications.adapters.crash_points import crash_at
from services.notifications.adapters.postgres import PostgresNotificationsStore
from services.notifications.adapters.postgres_log import PostgresDeliveryLog
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.domain.email import Sender
from services.notifications.domain.links import LinkSigner
from services.notifications.domain.schedule import RateLimit
from services.notifications.entrypoints.consumers import ConsumerDeps, build_router
from services.notifications.entrypoints.http_support import delivery_log_router
from services.notifications.service_layer.dispatcher import (
    Dispatcher,
    DispatchPolicy,
    DispatchTools,
    utc_now,
)
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.settings import SCHEMA, SERVICE_NAME, NotificationsSettings
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
from shared.settings import DatabaseSettings
from shared.startup import check_kafka, check_postgres
from shared.tracing import shutdown, trace_broker, trace_http, tracer_provider

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class NotificationsService:
    app: FastAPI
    broker: KafkaBroker
    pool: asyncpg.Pool
    dispatcher: Dispatcher
    relay: OutboxRelay
    tasks: BackgroundTasks


def build_dispatcher(
    settings: NotificationsSettings, store: PostgresNotificationsStore, mailer: SmtpMailer
) -> Dispatcher:
    links = settings.links
    tools = DispatchTools(
        sender=Sender(settings.mail_from, settings.reply_to, settings.message_id_domain),
        signer=LinkSigner(links.base_url, links.keys()[0], timedelta(days=links.ttl_days)),
        clock=utc_now,
        checkpoint=mailer.checkpoint,
    )
    policy = DispatchPolicy(
        max_attempts=settings.max_attempts,
        retry_base_s=settings.retry_base_s,
        retry_max_s=settings.retry_max_s,
        lease_s=settings.lease_s,
        contact_wait_s=settings.contact_wait_s,
        rate_limit=RateLimit(
            settings.rate_limit_emails, timedelta(seconds=settings.rate_limit_period_s)
        ),
        concurrency=settings.send_concurrency,
        batch_size=2 * settings.send_concurrency,
        refresh_hold_s=settings.refresh_hold_s,
    )
    return Dispatcher(store, mailer, tools, policy)


def send_slot_pool(settings: NotificationsSettings) -> DatabaseSettings:
    """Each send slot keeps a connection of its own, apart from the consumer's and the relay's,
    and so does the writer of `sent` records."""
    slots = settings.send_concurrency
    return settings.db.model_copy(update={"db_pool_min": 1, "db_pool_max": slots + 1})


def build_broker_for(settings: NotificationsSettings, deps: ConsumerDeps) -> KafkaBroker:
    broker = build_broker(settings.kafka, SERVICE_NAME)
    instrument(broker, SERVICE_NAME)
    dead_letters = install_dead_letter(broker, SERVICE_NAME)
    broker.include_router(build_router(settings.kafka, deps, dead_letters))
    return broker


def create_app(
    settings: NotificationsSettings,
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    tasks: BackgroundTasks,
    relay: OutboxRelay,
) -> FastAPI:
    app = FastAPI(title="Mentorlink notifications", version="1")
    install_problem_handlers(app)
    app.include_router(asyncapi_router(broker, "Mentorlink notifications"))
    app.include_router(delivery_log_router(PostgresDeliveryLog(pool), settings.support_token))
    checks = {
        "postgres": postgres_ready(pool),
        "kafka": kafka_ready(broker),
        "partitions": partitions_assigned(broker),
    }
    app.include_router(health_router({**checks, "background": tasks_ready(tasks)}))
    app.include_router(metrics_router(service_refreshers(SERVICE_NAME, broker, relay.backlog)))
    return app


@asynccontextmanager
async def bootstrap(settings: NotificationsSettings) -> AsyncIterator[NotificationsService]:
    await check_postgres(settings.db)
    await check_kafka(settings.kafka)
    checkpoint = crash_at(settings.crash_at)
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings.db, SCHEMA)
        stack.push_async_callback(pool.close)
        await apply_migrations(pool, SCHEMA, MIGRATIONS)
        await ensure_topics(settings.kafka, TOPICS)
        slot_pool = await create_pool(send_slot_pool(settings), SCHEMA)
        stack.push_async_callback(slot_pool.close)
        store = PostgresNotificationsStore(pool, SERVICE_NAME, slot_pool)
        producer = await stack.enter_async_context(kafka_producer(settings.kafka, SERVICE_NAME))
        relay = OutboxRelay(pool, producer, SCHEMA)
        mailer = SmtpMailer(settings.smtp, checkpoint)
        stack.push_async_callback(mailer.close)
        dispatcher = build_dispatcher(settings, store, mailer)
        tasks = await stack.enter_async_context(background_tasks())
        tasks.start(dispatcher.run(), "email-dispatcher")
        tasks.start(relay.run(), "dead-letter-relay")
        window = timedelta(seconds=settings.digest_window_s)
        policy = QueuePolicy(settings.message_id_domain, window)
        provider = tracer_provider(SERVICE_NAME, settings.tracing)
        stack.push_async_callback(shutdown, provider)
        tracer = provider.get_tracer("mentorlink.notifications") if provider else None
        deps = ConsumerDeps(store, policy, utc_now, dispatcher.wake, checkpoint, tracer)
        broker = build_broker_for(settings, deps)
        trace_broker(broker, provider)
        await broker.start()
        stack.push_async_callback(broker.stop)
        app = create_app(settings, pool, broker, tasks, relay)
        trace_http(app, provider, SERVICE_NAME)
        yield NotificationsService(app, broker, pool, dispatcher, relay, tasks)
