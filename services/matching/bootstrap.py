"""Wire the matching service: engines, the batch consumer and the admin API over the shared core
(shared/wiring.py: pool, migrations, topics, outbox relay, broker, health)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.matching.adapters.compiled_cache import seed_compiled_cache
from services.matching.adapters.postgres import PostgresUnitOfWork
from services.matching.adapters.postgres_reads import PostgresReadStore
from services.matching.adapters.state_loader import PostgresStateLoader
from services.matching.adapters.warm_up import compile_kernels
from services.matching.entrypoints.admin import admin_router
from services.matching.entrypoints.consumers import PartitionOwnership, build_router
from services.matching.entrypoints.http_reads import install_reads
from services.matching.entrypoints.waiting import mentors_refresher, waiting_refresher
from services.matching.service_layer.handlers import Matching
from services.matching.service_layer.reads import Reads
from services.matching.service_layer.topics import MENTOR_FEED
from services.matching.settings import SCHEMA, SERVICE_NAME, MatchingSettings
from shared.contracts.topics import TOPICS
from shared.db.retention import processed_events_rule, retention_loop
from shared.erasure import ErasureKeys
from shared.http.problems import install_problem_handlers
from shared.outbox import OutboxRelay
from shared.supervision import Supervisor
from shared.wiring import ServiceSpec, service_core

MIGRATIONS = Path(__file__).parent / "migrations"
SPEC = ServiceSpec(SERVICE_NAME, SCHEMA, MIGRATIONS, (*TOPICS, MENTOR_FEED))


@dataclass
class MatchingService:
    app: FastAPI
    broker: KafkaBroker
    pool: asyncpg.Pool
    relay: OutboxRelay
    loops: Supervisor
    matching: Matching
    ownership: PartitionOwnership


@asynccontextmanager
async def bootstrap(settings: MatchingSettings) -> AsyncIterator[MatchingService]:
    async with service_core(SPEC, settings) as core:
        retention = settings.retention
        rules = [processed_events_rule(retention.processed_events_days)]
        purge = retention_loop(
            core.pool, SERVICE_NAME, rules, retention.interval_s, retention.batch_size
        )
        core.start_loop("retention", purge)
        matching = Matching(
            PostgresUnitOfWork(
                core.pool, settings.kafka.topic_prefix, ErasureKeys(settings.erasure.keys())
            ),
            PostgresStateLoader(core.pool),
            settings.engine_config(),
        )
        seed_compiled_cache(settings.numba_seed_dir, settings.numba_cache_dir)
        await asyncio.to_thread(compile_kernels)  # before any event can wait for it
        ownership = PartitionOwnership(matching)
        broker, dead_letters = core.new_broker()
        broker.include_router(build_router(settings.kafka, matching, ownership, dead_letters))
        matching.tracer = core.provider.get_tracer("mentorlink.matching") if core.provider else None
        await core.start_broker(broker)
        app = FastAPI(title="Mentorlink matching", version="1")
        install_problem_handlers(app)
        token = settings.admin_token.get_secret_value() if settings.admin_token else None
        app.include_router(admin_router(matching, token))
        reads = Reads(PostgresReadStore(core.pool), settings.engine_config())
        read_token = settings.read_token.get_secret_value() if settings.read_token else None
        install_reads(app, reads, read_token)
        refreshers = {
            "goals_waiting": waiting_refresher(matching),
            "mentors": mentors_refresher(matching),
        }
        core.install_operations(app, broker, "Mentorlink matching", refreshers=refreshers)
        yield MatchingService(app, broker, core.pool, core.relay, core.loops, matching, ownership)
