"""The engine's large tables of tuples stay in the collector's view, so that gc.freeze keeps them
frozen (domain/search/tracked.py).

A full collection untracks a plain dict holding only untracked values (tuples of numbers and
strings become so); such a dict misses gc.freeze, and the next tuple put in it brings it back
in the young generation, where each young collection walks all of it (9-18 ms inside a GoalSet
at full scale, docs/benchmarks/history/2026-12-07-goalset-p99-per-item-costs.md).
"""

from __future__ import annotations

import gc
import random

from services.matching.domain.engine import TenantEngine
from tests.support import population as people
from tests.unit.matching.built_engines import built_engine, partition_of


def tables(engine: TenantEngine) -> dict[str, object]:
    return {
        "hosts.host": engine.rankings.hosts.host,
        "hosts.prefix": engine.rankings.hosts.prefix,
        "lists.records": engine.lists.records,
        "lists.member_of": engine.lists.member_of._of,
        "roster.others": engine.roster.others,
        "search.musts": engine.search.musts.of_slot,
    }


def test_a_full_collection_leaves_the_tables_of_tuples_tracked() -> None:
    engine = built_engine(seed=11, mentors=40, mentees=120)
    rng = random.Random(11)
    for index in range(0, 120, 10):  # a second goal, with a must: `others` and `musts` hold some
        mentee_id = f"mentee-{index:04d}"
        goal = people.with_musts(rng, people.goal(rng, mentee_id, goal_id="project"))
        engine.put_goal(goal, partition_of(mentee_id, engine.config.partitions))
    engine.drain()
    held = tables(engine)
    assert all(held.values()), {name: len(table) for name, table in held.items()}  # type: ignore[arg-type]
    gc.collect()
    gc.collect()  # tuples of tuples: the inner ones first
    assert [name for name, table in held.items() if not gc.is_tracked(table)] == []


def test_a_frozen_table_stays_out_of_the_young_generation() -> None:
    engine = built_engine(seed=12, mentors=30, mentees=60)
    gc.collect()
    gc.collect()
    gc.freeze()
    try:
        host = engine.rankings.hosts.host
        host["mentor-new"] = (-0.5, 1, len(host))  # a fresh tuple, as a host moving puts in
        assert not any(table is host for table in gc.get_objects(generation=0))
    finally:
        gc.unfreeze()
