"""What a company's onboarding costs profile's PostgreSQL: the statements the server executes
per staged ingress command and per imported row (issue 29, the cost per person). A statement
sent with `executemany` is executed once per row on the server, and counted so."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from services.profile import bootstrap
from services.profile.adapters.api_keys import ApiKeys
from services.profile.adapters.ingress_queue import PostgresIngressQueue
from services.profile.adapters.postgres import PostgresUnitOfWork
from services.profile.domain.commands import UpsertProfile
from services.profile.entrypoints.ingress import ingress_applier, parse_staged
from services.profile.service_layer.handlers import import_profiles
from services.profile.service_layer.ingress_queue import IngressWorker, StagedCommand
from shared.contracts.profiles import ProfileFields
from shared.contracts.topics import GOALS, PROFILES
from tests.support.people import ingress_set_goal, ingress_upsert, mentee_body
from tests.support.statements import counted_pool

MIGRATIONS = Path(bootstrap.__file__).parent / "migrations"
GOALS_TOPIC = GOALS.qualified("t.")


@pytest.fixture
async def counted(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    """A pool of the profile schema, and every statement the server executed for it."""
    async with counted_pool(database_url, "profile", MIGRATIONS) as counted:
        yield counted


def _staged(command: dict[str, Any]) -> StagedCommand:
    record = SimpleNamespace(
        topic="t.ingress",
        partition=0,
        offset=0,
        key=command["user_id"].encode(),
        value=json.dumps(command).encode(),
        headers=[],
        timestamp=1_700_000_000_000,  # a Kafka record's: the erasure check runs
    )
    return parse_staged(record)


async def _drain(worker: IngressWorker, queue: PostgresIngressQueue, commands: list[Any]) -> None:
    await queue.stage([_staged(c) for c in commands])
    assert await worker.drain() == len(commands)


async def test_a_staged_goal_costs_six_statements(
    counted: tuple[asyncpg.Pool, list[str]],
) -> None:
    """Each goal, applied by the ingress worker in a drain's savepoint: the savepoint and its
    release, the admission (idempotency record, tenant and erasure in one), the mentee's lock,
    the goals with the tenant's limit, and the goal: six. Its deletion from the queue is one
    statement per round (the five goals below are one round). It was twelve: the admission's
    three reads apart, the goals and the limit apart, the outbox row and a NOTIFY per command
    (now one statement per drain), and a deletion per command."""
    pool, statements = counted
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    await ApiKeys(pool).create(tenant)
    queue = PostgresIngressQueue(pool)
    uow = PostgresUnitOfWork(pool, "t.")
    worker = IngressWorker(queue, ingress_applier(uow), "profile", per_tenant=10)
    people = [f"x{n}" for n in range(6)]
    await _drain(worker, queue, [ingress_upsert(p, tenant, body=mentee_body(p)) for p in people])
    per_drain = []
    for mentees in (people[:1], people[1:]):
        await queue.stage([_staged(ingress_set_goal(m, tenant)) for m in mentees])
        statements.clear()
        assert await worker.drain() == len(mentees)
        per_drain.append(len(statements))
    assert (per_drain[1] - per_drain[0]) / 4 == 6, per_drain
    events = await pool.fetch("SELECT key FROM outbox WHERE topic = $1 ORDER BY id", GOALS_TOPIC)
    assert [r["key"] for r in events] == [m.encode() for m in people], "in the order applied"


async def test_an_import_batch_costs_the_same_statements_whatever_its_size(
    counted: tuple[asyncpg.Pool, list[str]],
) -> None:
    """A CSV import's batch reads its people, stores the changed profiles and queues their
    events with a fixed number of statements: none per row."""
    pool, statements = counted
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    uow = PostgresUnitOfWork(pool, "t.")
    fields = ProfileFields.model_validate(mentee_body())
    per_batch = []
    for first, count in ((0, 1), (10, 1), (100, 50)):  # the first prepares the statements
        rows = [
            UpsertProfile(tenant, f"u{n}", fields, None, "import")
            for n in range(first, first + count)
        ]
        statements.clear()
        counts = await import_profiles(tenant, rows, uow)
        assert counts.created == count
        per_batch.append(len(statements))
    assert per_batch[1] == per_batch[2], per_batch
    stored = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = $1", PROFILES.qualified("t.")
    )
    assert stored == 52
