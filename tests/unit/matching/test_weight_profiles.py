"""Mentees keep the row of their goal's weights in a shared table; rows nobody uses any more
are dropped once they outnumber the mentees, and every mentee still reads its own weights."""

from __future__ import annotations

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.criteria import active_weights, weight_total
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal, person_from_profile
from tests.unit.builders import mentee


def test_each_mentee_reads_its_own_weights_while_unused_rows_are_dropped() -> None:
    engine = TenantEngine(EngineConfig(partitions=1))
    table = engine.search.mentees
    ids = [f"mentee-{i}" for i in range(50)]
    for user_id in ids:
        engine.put_mentee(person_from_profile(mentee(user_id, skills=[])), 0)
    goals: dict[str, Goal] = {}
    most_rows = 0
    for change in range(3_000):  # each a weight vector never seen before
        user_id = ids[change % len(ids)]
        weights = (1.0, change / 3_000, 0.3, 0.3, 0.3, 0.4, 0.5, 0.3)
        goals[user_id] = Goal(
            user_id, change + 1, "default", ("go",), (), (), "similar", (), weights=weights
        )
        engine.put_goal(goals[user_id], 0)
        most_rows = max(most_rows, len(table.profiles))
        for other, goal in goals.items():
            row = table.profile[table.slots.slot_of[other]]
            expected = active_weights(goal, engine.roster.profiles[other])
            assert tuple(table.profiles.weights[row].tolist()) == expected
            assert table.profiles.totals[row] == weight_total(expected)
    assert most_rows <= 2 * len(ids) + 1024 + 1
