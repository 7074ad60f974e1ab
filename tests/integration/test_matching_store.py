"""Matching's PostgreSQL store: the lifecycle migration, and restoring engines."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from services.matching import bootstrap
from services.matching.adapters.postgres import PostgresUnitOfWork
from services.matching.adapters.state_loader import PostgresStateLoader, load_engines
from services.matching.adapters.stored_people import person_to_json
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import population
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.domain.seekers import seeker_key
from services.matching.service_layer.handlers import Delivery, Matching, handle, handle_batch
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings
from tests.unit.builders import (
    TENANT,
    goal,
    goal_set,
    mentee,
    mentor,
    profile_deleted,
    profile_updated,
)

MIGRATIONS = Path(bootstrap.__file__).parent / "migrations"
CONFIG = EngineConfig(top_k=3, partitions=2)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "matching")
    await apply_migrations(pool, "matching", MIGRATIONS)
    yield pool
    await pool.close()


async def test_the_lifecycle_migration_keeps_seats_taken_and_accepts_as_they_were(
    database_url: str, tmp_path: Path
) -> None:
    """Seats matching counted (`mentor_load`) move into the stored mentor until the profile
    service's next ProfileUpdated; an accept parked for an unknown mentor keeps the pair apart."""
    for name in ("0001_read_model.sql", "0002_incremental_engine.sql"):
        (tmp_path / name).write_text((MIGRATIONS / name).read_text())
    pool = await create_pool(DatabaseSettings(database_url=database_url), "matching")
    try:
        await apply_migrations(pool, "matching", tmp_path)
        before = person_from_profile(mentor("m1", capacity=3))
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO people (tenant_id, user_id, version, partition, is_mentor,"
                " is_mentee, capacity, features) VALUES ($1, 'm1', 1, 0, true, false, 3, $2)",
                TENANT,
                person_to_json(before),
            )
            await conn.execute("INSERT INTO mentor_load VALUES ($1, 'm1', 2)", TENANT)
            await conn.execute(
                "INSERT INTO pairs VALUES ($1, 'x1', 'm9', 0, 'accept_parked')", TENANT
            )
        await apply_migrations(pool, "matching", MIGRATIONS)
        async with PostgresUnitOfWork(pool, "t.").transaction() as tx:
            assert await tx.stored_person(TENANT, "m1") == replace(before, seats_taken=2)
            assert (await tx.mentee_blocks(TENANT, "x1")).declined == ["m9"]
    finally:
        await pool.close()


async def test_restored_engines_rank_like_the_ones_that_wrote_the_store(pool: asyncpg.Pool) -> None:
    live = Matching(PostgresUnitOfWork(pool, "t."), PostgresStateLoader(pool), CONFIG)
    await live.take_partitions({0, 1})
    for i in range(4):
        event = ProfileUpdated(tenant_id=TENANT, key=f"m{i}", payload=mentor(f"m{i}", capacity=1))
        await handle(event, i % 2, live)
    # The mentor fan-out is a Kafka hop; here each partition refreshes every mentor directly.
    engine = await live.engine(TENANT)
    for i in range(4):
        engine.put_mentor_data(person_from_profile(mentor(f"m{i}", capacity=1)))
        engine.refresh_mentor(f"m{i}", [0, 1])
    engine.drain()
    for i in range(6):
        await handle(
            ProfileUpdated(tenant_id=TENANT, key=f"x{i}", payload=mentee(f"x{i}")), i % 2, live
        )
        await handle(GoalSet(tenant_id=TENANT, key=f"x{i}", payload=goal(f"x{i}")), i % 2, live)
    before = engine.ranking_ids()
    assert any(before.values())

    restored = await load_engines(pool, {0, 1}, CONFIG)
    assert restored[TENANT].ranking_ids() == before


async def test_a_restore_joins_each_goal_to_its_mentee_whichever_arrived_alone(
    pool: asyncpg.Pool,
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    live = Matching(PostgresUnitOfWork(pool, "t."), PostgresStateLoader(pool), CONFIG)
    await live.take_partitions({0, 1})
    for i in range(3):
        await handle(profile_updated(mentor(f"m{i}"), tenant_id=tenant), i % 2, live)
    engine = await live.engine(tenant)
    for i in range(3):  # the mentor fan-out, directly (a Kafka hop in the service)
        engine.put_mentor_data(person_from_profile(mentor(f"m{i}")))
        engine.refresh_mentor(f"m{i}", [0, 1])
    arrivals = [
        (profile_updated(mentee("both"), tenant_id=tenant), 0),
        (goal_set(goal("both"), tenant_id=tenant), 0),
        (profile_updated(mentee("profile-only"), tenant_id=tenant), 1),
        (goal_set(goal("goal-only"), tenant_id=tenant), 1),
        (goal_set(goal("m0"), tenant_id=tenant), 0),  # a goal of a mentor who is no mentee
    ]
    for event, partition in arrivals:
        await handle(event, partition, live)
    engine.drain()

    restored = (await load_engines(pool, {0, 1}, CONFIG, tenant))[tenant]
    before, after = population(engine), population(restored)
    assert (after.people, after.goals) == (before.people, before.goals)
    assert restored.roster.partition_of == engine.roster.partition_of
    assert restored.ranking_ids() == engine.ranking_ids()
    assert restored.ranking_ids()[seeker_key("both", "g1")]

    for either in (engine, restored):  # what arrived alone is completed after the restore
        either.put_mentee(person_from_profile(mentee("goal-only")), 1)
        either.put_goal(goal_from_payload(goal("profile-only")), 1)
        either.drain()
    assert restored.ranking_ids() == engine.ranking_ids()
    ranked = restored.ranking_ids()
    assert ranked[seeker_key("goal-only", "g1")] and ranked[seeker_key("profile-only", "g1")]


async def test_a_poll_of_goals_stores_what_one_event_at_a_time_would(pool: asyncpg.Pool) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    live = Matching(PostgresUnitOfWork(pool, "t."), PostgresStateLoader(pool), CONFIG)
    await live.take_partitions({0, 1})

    def goals(mentee_id: str, version: int) -> GoalSet:
        return goal_set(goal(mentee_id, version), tenant_id=tenant)

    def erased(user_id: str) -> ProfileDeleted:
        return profile_deleted(user_id, tenant_id=tenant)

    await handle(goals("a", 2), 0, live)
    poll = [
        goals("a", 1),  # older than the stored one
        goals("a", 3),
        goals("b", 1),
        erased("b"),  # erases b's goal of this same poll
        goals("c", 1),
        goals("c", 1),  # another event, the same version
        goals("d", 4),
        erased("d"),
        goals("d", 1),  # after the erasure: stored again
        goals("e", 5),
        goals("e", 2),  # older than one earlier in the poll
    ]
    await handle_batch([Delivery(event, 0) for event in poll], live)

    rows = await pool.fetch(
        "SELECT mentee_id, version FROM goals WHERE tenant_id = $1 ORDER BY mentee_id", tenant
    )
    assert [(r["mentee_id"], r["version"]) for r in rows] == [
        ("a", 3),
        ("c", 1),
        ("d", 1),
        ("e", 5),
    ]
    engine = await live.engine(tenant)
    assert {g.mentee_id: g.version for g in engine.roster.goals.values()} == {
        "a": 3,
        "c": 1,
        "d": 1,
        "e": 5,
    }
