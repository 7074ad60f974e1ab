"""What a newcomer costs matching's PostgreSQL: the statements a poll runs per mentee who joins
with a profile and a goal (issue 29, the service's cost per goal)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.matching import bootstrap
from services.matching.adapters.postgres import PostgresUnitOfWork
from services.matching.adapters.state_loader import PostgresStateLoader
from services.matching.domain.constraints import EngineConfig
from services.matching.service_layer.handlers import Delivery, Matching, handle_batch
from shared.contracts.envelope import EventEnvelope
from tests.support.statements import counted_pool
from tests.unit.builders import goal, goal_set, mentee, mentor, profile_updated

MIGRATIONS = Path(bootstrap.__file__).parent / "migrations"
CONFIG = EngineConfig(top_k=3, partitions=2)


@pytest.fixture
async def counted(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    """A pool of the matching schema, and every statement the server executed for it."""
    async with counted_pool(database_url, "matching", MIGRATIONS) as counted:
        yield counted


def newcomers(tenant: str, first: int, count: int) -> list[EventEnvelope]:
    """Each mentee's profile, then their first goal."""
    events: list[EventEnvelope] = []
    for n in range(first, first + count):
        events.append(profile_updated(mentee(f"x{n}"), tenant_id=tenant))
        events.append(goal_set(goal(f"x{n}"), tenant_id=tenant))
    return events


async def test_a_newcomer_costs_one_statement(counted: tuple[asyncpg.Pool, list[str]]) -> None:
    """A profile update writes once (the stored versions of every person the poll updates,
    and whether each was a mentor's, are read and locked with one statement per poll). The
    poll's goals are written, and their mentees' pairs and relationships read, by one
    statement per poll (service_layer/goals_ahead.py), as are the mentor lists and proposals
    the poll changed, whatever their number. A statement per goal made it two; a version read
    per update, the blocks read apart and a row per list and per proposal made it four plus
    one per changed list and proposal; before that the handlers read the stored profile
    again, and the pairs and the relationships apart."""
    pool, statements = counted
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    live = Matching(PostgresUnitOfWork(pool, "t."), PostgresStateLoader(pool), CONFIG)
    await live.take_partitions({0, 1})
    seed = [profile_updated(mentor(f"m{n}"), tenant_id=tenant) for n in range(3)]
    await handle_batch([Delivery(event, 0) for event in seed], live)
    per_poll = []
    for first, count in ((20, 1), (0, 1), (10, 5)):  # the first prepares the statements
        statements.clear()
        poll = newcomers(tenant, first, count)
        await handle_batch([Delivery(event, 0) for event in poll], live)
        per_poll.append(len(statements))
    assert (per_poll[2] - per_poll[1]) / 4 == 1, per_poll
    proposals = await pool.fetchval("SELECT count(*) FROM proposals WHERE tenant_id = $1", tenant)
    assert proposals == 7  # every newcomer's goal was ranked and proposed
