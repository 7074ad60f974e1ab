"""Profile and goal events handled at once by two subscribers still produce a proposal."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.matching.adapters.postgres import PostgresUnitOfWork
from services.matching.service_layer import handlers
from shared.contracts.goals import GoalSet, GoalSetPayload
from shared.contracts.profiles import ProfilePayload, ProfileUpdated
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings
from tests.support.people import goal_body, mentee_body, mentor_body

MIGRATIONS = Path(handlers.__file__).parent.parent / "migrations"


def _profile(user_id: str, body: dict) -> ProfileUpdated:
    payload = ProfilePayload.model_validate({**body, "user_id": user_id, "version": 1})
    return ProfileUpdated(tenant_id="acme", key=user_id, payload=payload)


def _goal(mentee_id: str) -> GoalSet:
    payload = GoalSetPayload.model_validate({**goal_body(), "mentee_id": mentee_id, "version": 1})
    return GoalSet(tenant_id="acme", key=mentee_id, payload=payload)


async def test_concurrent_mentee_profile_goal_and_mentor_events_all_lead_to_proposals(
    database_url,
) -> None:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "matching")
    try:
        await apply_migrations(pool, "matching", MIGRATIONS)
        uow = PostgresUnitOfWork(pool, "t.")
        mentees = [f"mentee-{i}" for i in range(12)]
        work = [handlers.record_profile(_profile("mentor-1", mentor_body()), uow, 5)]
        for mentee in mentees:
            work.append(handlers.record_profile(_profile(mentee, mentee_body()), uow, 5))
            work.append(handlers.record_goal(_goal(mentee), uow, 5))
        await asyncio.gather(*work)

        proposed = await pool.fetch("SELECT mentee_id, mentor_ids FROM proposals")
        assert sorted(r["mentee_id"] for r in proposed) == sorted(mentees)
        assert all(r["mentor_ids"] == ["mentor-1"] for r in proposed)
        assert await pool.fetchval("SELECT count(*) FROM outbox") == len(mentees)
    finally:
        await pool.close()
