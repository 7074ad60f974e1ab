"""Wire the notifications service: consumers, the email dispatcher and the delivery log API
over the shared core (shared/wiring.py: pool, migrations, topics, outbox relay, broker, health)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.notifications.adapters.crash_points import crash_at
from services.notifications.adapters.postgres import PostgresNotificationsStore
from services.notifications.adapters.postgres_log import PostgresDeliveryLog
from services.notifications.adapters.retention import retention_rules
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.domain.email import Sender
from services.notifications.domain.links import LinkSigner
from services.notifications.domain.schedule import RateLimit
from services.notifications.entrypoints.consumers import ConsumerDeps, build_router
from services.notifications.entrypoints.http_support import delivery_log_router
from services.notifications.service_layer.dispatcher import Dispatcher
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.sending import DispatchPolicy, DispatchTools, utc_now
from services.notifications.settings import SCHEMA, SERVICE_NAME, NotificationsSettings
from shared.clock import Clock, clock_from_env
from shared.contracts.topics import TOPICS
from shared.db.pool import create_pool
from shared.db.retention import retention_loop
from shared.erasure import ErasureKeys
from shared.http.problems import install_problem_handlers
from shared.outbox import OutboxRelay
from shared.settings import DatabaseSettings
from shared.supervision import Supervisor
from shared.wiring import ServiceSpec, service_core

MIGRATIONS = Path(__file__).parent / "migrations"
# Its claims, sends and digests join arrays of keys against emails, a table that fills from
# empty within minutes of a start (shared/db/pool.py): planned for each batch's arguments.
SPEC = ServiceSpec(SERVICE_NAME, SCHEMA, MIGRATIONS, TOPICS, custom_plans=True)


@dataclass
class NotificationsService:
    app: FastAPI
    broker: KafkaBroker
    pool: asyncpg.Pool
    dispatcher: Dispatcher
    relay: OutboxRelay
    loops: Supervisor


def build_dispatcher(
    settings: NotificationsSettings,
    store: PostgresNotificationsStore,
    mailer: SmtpMailer,
    clock: Clock,
) -> Dispatcher:
    links = settings.links
    tools = DispatchTools(
        sender=Sender(settings.mail_from, settings.reply_to, settings.message_id_domain),
        signer=LinkSigner(links.base_url, links.keys()[0], timedelta(days=links.ttl_days)),
        clock=utc_now,
        link_clock=clock.now,
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
        batch_size=3 * settings.send_concurrency,
        refresh_hold_s=settings.refresh_hold_s,
        statement_wait_s=settings.statement_wait_s,
    )
    return Dispatcher(store, mailer, tools, policy)


def send_slot_pool(settings: NotificationsSettings) -> DatabaseSettings:
    """Each send slot keeps a connection of its own, apart from the consumer's and the relay's,
    and so does the writer of `sent` records."""
    slots = settings.send_concurrency
    return settings.db.model_copy(update={"db_pool_min": 1, "db_pool_max": slots + 1})


@asynccontextmanager
async def bootstrap(
    settings: NotificationsSettings, clock: Clock | None = None
) -> AsyncIterator[NotificationsService]:
    """`clock` (shared/clock.py) dates the links: the profile service checks their expiry on
    its clock, so both read the same one. Due times stay on the database's clock."""
    checkpoint = crash_at(settings.crash_at)
    clock = clock or clock_from_env(settings.kafka.profile)
    async with service_core(SPEC, settings) as core:
        slot_pool = await create_pool(send_slot_pool(settings), SCHEMA, SPEC.custom_plans)
        core.stack.push_async_callback(slot_pool.close)
        keys = ErasureKeys(settings.erasure.keys())
        store = PostgresNotificationsStore(core.pool, SERVICE_NAME, slot_pool, keys)
        mailer = SmtpMailer(settings.smtp, checkpoint)
        core.stack.push_async_callback(mailer.close)
        dispatcher = build_dispatcher(settings, store, mailer, clock)
        core.start_loop("email-dispatcher", dispatcher.run)
        retention = settings.retention
        rules = retention_rules(retention)
        purge = retention_loop(
            core.pool, SERVICE_NAME, rules, retention.interval_s, retention.batch_size
        )
        core.start_loop("retention", purge)
        window = timedelta(seconds=settings.digest_window_s)
        policy = QueuePolicy(settings.message_id_domain, window)
        tracer = core.provider.get_tracer("mentorlink.notifications") if core.provider else None
        deps = ConsumerDeps(store, policy, utc_now, dispatcher.wake, checkpoint, tracer)
        broker, dead_letters = core.new_broker()
        broker.include_router(build_router(settings.kafka, deps, dead_letters))
        await core.start_broker(broker)
        app = FastAPI(title="Mentorlink notifications", version="1")
        install_problem_handlers(app)
        log_api = delivery_log_router(PostgresDeliveryLog(core.pool), settings.support_token)
        app.include_router(log_api)
        core.install_operations(app, broker, "Mentorlink notifications")
        yield NotificationsService(app, broker, core.pool, dispatcher, core.relay, core.loops)
