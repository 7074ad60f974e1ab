"""Compile the scoring passes before the first event needs them.

numba compiles a kernel at its first call (seconds the first time, about one from its on-disk
cache). Without this, that lands in the first GoalSet or mentor change after a start, and a
mentor's first update is rare enough that it can come long after the service looks healthy.
"""

from __future__ import annotations

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal, Person
from shared.contracts.goals import DEFAULT_GOAL_ID


def compile_kernels() -> dict[str, tuple[str, ...]]:
    """Score once through both passes, on a throwaway engine of one mentor and one mentee.
    Returns that engine's rankings: the mentee ranks the mentor if both passes scored."""
    engine = TenantEngine(EngineConfig(partitions=1))
    engine.put_mentor_data(_person("warm-up-mentor", mentor=True))
    engine.put_mentee(_person("warm-up-mentee", mentor=False), 0)
    engine.put_goal(
        Goal("warm-up-mentee", 1, DEFAULT_GOAL_ID, ("warm-up",), (), (), "similar", ()), 0
    )  # one mentee against many mentors
    engine.refresh_mentor("warm-up-mentor", [0])  # one mentor against many mentees
    return engine.ranking_ids()


def _person(user_id: str, mentor: bool) -> Person:
    return Person(
        user_id=user_id,
        version=1,
        is_mentor=mentor,
        is_mentee=not mentor,
        display_name=user_id,
        headline=None,
        skills={"warm-up": 4} if mentor else {},
        years=12 if mentor else 2,
        industries=(),
        functions=(),
        background={},
        languages=(),
        styles=(),
        capacity=1 if mentor else 0,
        opted_in=True,
        manager_id=None,
    )
