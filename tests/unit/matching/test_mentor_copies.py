"""A mentor change reaches the engine once per partition (ADR 0008's fan-out): the copies
after the first bring the same data and seat count, and change and re-rank nothing, while the
lists they refresh still come out as the batch reference's."""

from __future__ import annotations

from services.matching.domain.batch import recompute
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine, population
from services.matching.domain.people import goal_from_payload, person_from_profile
from tests.unit.builders import goal, mentee, mentor

CONFIG = EngineConfig(top_k=2, partitions=3)


def test_the_copies_after_the_first_change_nothing() -> None:
    engine = TenantEngine(CONFIG)
    first = person_from_profile(mentor("grace", skills=[{"name": "kubernetes", "level": 3}]))
    engine.put_mentor_data(first)
    engine.refresh_mentor("grace", range(CONFIG.partitions))
    for index in range(6):
        name = f"mentee-{index}"
        engine.put_mentee(person_from_profile(mentee(name)), index % CONFIG.partitions)
        engine.put_goal(goal_from_payload(goal(name)), index % CONFIG.partitions)
    engine.drain()
    changed = person_from_profile(
        mentor("grace", version=2, skills=[{"name": "kubernetes", "level": 5}])
    )
    for partition in range(CONFIG.partitions):
        engine.set_accepted("grace", 0)
        engine.put_mentor_data(changed)
        # the first copy marks the mentees the mentor shows; a later one, the same data again,
        # marks no one before its refresh
        assert bool(engine.rankings.dirty) == (partition == 0), partition
        engine.refresh_mentor("grace", [partition])
        engine.drain()
        engine.check_invariants()
    assert engine.ranking_ids() == recompute(population(engine), CONFIG)
