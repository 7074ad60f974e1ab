"""Wire the profile service: the HTTP API, the ingress consumer and the idempotency purge over
the shared core (shared/wiring.py: pool, migrations, topics, outbox relay, broker, health)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.profile.adapters.api_keys import ApiKeys
from services.profile.adapters.ingress_queue import PostgresIngressQueue
from services.profile.adapters.matching_reads import MatchingReads
from services.profile.adapters.postgres import PostgresUnitOfWork
from services.profile.adapters.postgres_requests import purge_expired_requests
from services.profile.adapters.retention import retention_rules
from services.profile.entrypoints import (
    http_goals,
    http_links,
    http_profiles,
    http_relationships,
)
from services.profile.entrypoints.asyncapi import document_broker
from services.profile.entrypoints.http_fairness import tenant_gate
from services.profile.entrypoints.http_limits import BodySizeLimit
from services.profile.entrypoints.http_reads import install_reads
from services.profile.entrypoints.http_support import install_domain_problems
from services.profile.entrypoints.ingress import build_ingress_router, ingress_applier
from services.profile.service_layer.ingress_queue import IngressWorker
from services.profile.service_layer.lifecycle import Lifecycle
from services.profile.service_layer.timers import lifecycle_timers, reconcile_seats
from services.profile.settings import SCHEMA, SERVICE_NAME, ProfileSettings
from shared.clock import Clock, clock_from_env
from shared.contracts.topics import TOPICS
from shared.db.retention import retention_loop
from shared.errors import TRANSIENT_ERRORS
from shared.http.problems import install_problem_handlers
from shared.metrics import INGRESS_STAGED, backlog_refresher
from shared.outbox import OutboxRelay
from shared.supervision import Heartbeat, Loop, Supervisor
from shared.wiring import ServiceCore, ServiceSpec, service_core

MIGRATIONS = Path(__file__).parent / "migrations"
SPEC = ServiceSpec(SERVICE_NAME, SCHEMA, MIGRATIONS, TOPICS)
log = logging.getLogger(__name__)


@dataclass
class ProfileService:
    app: FastAPI
    pool: asyncpg.Pool
    relay: OutboxRelay
    api_keys: ApiKeys
    broker: KafkaBroker
    loops: Supervisor


def create_app(
    core: ServiceCore,
    broker: KafkaBroker,
    settings: ProfileSettings,
    queue: PostgresIngressQueue,
    life: Lifecycle,
    clock: Clock,
) -> FastAPI:
    app = FastAPI(
        title="Mentorlink profile API",
        version="1",
        description="Integrators create mentor and mentee profiles and set goals here; "
        "mentees answer proposal emails here. See docs/integrators.md.",
    )
    app.state.uow = life.uow
    app.state.lifecycle = life
    app.state.clock = clock
    app.state.api_keys = ApiKeys(core.pool)
    app.state.link_keys = settings.links.keys()
    app.state.tenant_gate = tenant_gate(settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_problem_handlers(app)
    install_domain_problems(app)
    routers = (
        http_profiles.router,
        http_goals.router,
        http_links.router,
        http_relationships.router,
    )
    for router in routers:
        app.include_router(router)
    documented = document_broker(settings.kafka)
    staged = {"ingress_staged": backlog_refresher(SERVICE_NAME, queue.depth, INGRESS_STAGED)}
    core.install_operations(app, broker, "Mentorlink profile", documented, staged)
    return app


def purge_idempotency_keys(pool: asyncpg.Pool, window_s: float) -> Loop:
    """Forget Idempotency-Key answers older than the replay window, hourly."""

    async def purge(beat: Heartbeat) -> None:
        while True:
            try:
                async with pool.acquire() as conn:
                    await purge_expired_requests(conn, window_s)
            except TRANSIENT_ERRORS as exc:
                log.warning("idempotency purge skipped: %s", type(exc).__name__)
            await beat.sleep(3600)

    return purge


@asynccontextmanager
async def bootstrap(
    settings: ProfileSettings, clock: Clock | None = None
) -> AsyncIterator[ProfileService]:
    async with service_core(SPEC, settings) as core:
        window = settings.idempotency_window_s
        core.start_loop("idem-purge", purge_idempotency_keys(core.pool, window))
        retention = settings.retention
        rules = retention_rules(retention)
        purge = retention_loop(
            core.pool, SERVICE_NAME, rules, retention.interval_s, retention.batch_size
        )
        core.start_loop("retention", purge)
        broker, dead_letters = core.new_broker()
        queue = PostgresIngressQueue(core.pool)
        uow = PostgresUnitOfWork(core.pool, settings.kafka.topic_prefix)
        worker = IngressWorker(
            queue, ingress_applier(uow), SERVICE_NAME, settings.ingress_per_tenant_per_round
        )
        core.start_loop("ingress-worker", worker.run)
        broker.include_router(build_ingress_router(settings.kafka, queue, worker, dead_letters))
        clock = clock or clock_from_env(settings.kafka.profile)
        life = Lifecycle(uow, settings.lifecycle_terms())
        await reconcile_seats(life)
        core.start_loop(
            "lifecycle-timers", lifecycle_timers(life, clock, settings.lifecycle_tick_s)
        )
        await core.start_broker(broker)
        app = create_app(core, broker, settings, queue, life, clock)
        reads = matching_reads(settings)
        install_reads(app, reads)
        try:
            yield ProfileService(app, core.pool, core.relay, app.state.api_keys, broker, core.loops)
        finally:
            await reads.aclose()


def matching_reads(settings: ProfileSettings) -> MatchingReads:
    """The client that forwards the read API to matching (ADR 0011); none without an address."""
    token = settings.matching_read_token
    client = (
        httpx.AsyncClient(base_url=settings.matching_url, timeout=settings.matching_timeout_s)
        if settings.matching_url
        else None
    )
    return MatchingReads(client, token.get_secret_value() if token else None)
