"""Several goals per mentee in the profile service's handlers (fake store): versions across
goals, the learning rule on one goal among several, and the tenant's limit."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.profile.domain.model import TooManyGoals
from services.profile.service_layer import handlers
from shared.contracts.goals import GoalSet
from shared.contracts.preferences import PreferencesAdjusted
from shared.contracts.topics import GOALS
from tests.unit.profile_fakes import FakeUnitOfWork
from tests.unit.test_profile_handlers import decline, set_goal, upsert, with_mentee


async def test_a_learned_adjustment_of_one_goal_comes_after_every_goal_of_the_mentee() -> None:
    """The goal declined for (g1, version 1) is adjusted after another goal (version 2) was set:
    the adjustment carries version 3, so a consumer ordering the mentee's goal events by version
    does not drop it as older than the other goal."""
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    await handlers.set_goal(set_goal(goal_id="g1"), uow)
    await handlers.set_goal(
        set_goal(goal_id="side", statement="Ship our Go service", target_skills=["go"]), uow
    )
    await handlers.upsert_profile(upsert("u-grace", roles=["mentor"]), uow)

    assert (await handlers.decline_proposal(decline(uuid4(), "availability"), uow)).learned

    events = [e for t, e in uow.published if t == GOALS]
    assert [(type(e), e.payload.goal_id, e.payload.version) for e in events] == [
        (GoalSet, "g1", 1),
        (GoalSet, "side", 2),
        (PreferencesAdjusted, "g1", 3),
    ]


async def test_the_tenants_limit_counts_open_goals_only() -> None:
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    uow.state.goal_limits["acme"] = 2
    for goal_id in ("a", "b"):
        await handlers.set_goal(set_goal(goal_id=goal_id), uow)
    with pytest.raises(TooManyGoals):
        await handlers.set_goal(set_goal(goal_id="c"), uow)
    changed = await handlers.set_goal(set_goal(goal_id="b", timeframe_months=3), uow)
    assert changed.version == 3
