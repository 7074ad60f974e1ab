"""One cutoff rule: the cutoff found from the last one after a single step
(constraints.cutoff_after_step, what the engine uses when one entry enters or leaves a mentor's
shown part) is exposure_cutoff over every partition's best keys after that step; and the engine,
which follows each mentor's cutoff that way (engine/cutoff_step.py), keeps every list as a merge
of the partitions shows it (check_invariants) and ranks as the batch reference does.

Hypothesis draws a mentor's partitions as sorted runs of distinct keys (some carrying a mentee
slot after the key, as the engine's entries do, some bare, as another instance's stored best
keys are), a budget, and one step: a key entering below the cutoff, or one at or within it
leaving. Only the partitions' best `budget` keys count, and a step moves that window.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching.domain.batch import recompute
from services.matching.domain.constraints import (
    EngineConfig,
    KeyWindow,
    OrderKey,
    cutoff_after_step,
    exposure_cutoff,
)
from services.matching.domain.engine import TenantEngine, population
from services.matching.domain.people import Goal, Person
from tests.support import population as people

Run = list[tuple[float, int, *tuple[int, ...]]]


def windows(runs: list[Run], budget: int) -> list[KeyWindow]:
    return [(run, min(len(run), budget)) for run in runs]


def merged_cutoff(runs: list[Run], budget: int) -> OrderKey | None:
    return exposure_cutoff(((k[0], k[1]) for run in runs for k in run[:budget]), budget)


@st.composite
def states(draw: st.DrawFn) -> tuple[list[Run], int, int]:
    budget = draw(st.integers(1, 6))
    count = draw(st.integers(0, 40))
    # Few scores, so that keys often share one and are told apart by the tiebreak.
    scores = draw(st.lists(st.sampled_from([-0.9, -0.5, -0.25, -0.1]), min_size=count))
    tiebreaks = draw(st.lists(st.integers(0, 10**6), min_size=count, unique=True))
    keys = list(zip(scores, tiebreaks, strict=False))
    partitions = draw(st.integers(1, 6))
    owner = draw(st.lists(st.integers(0, partitions - 1), min_size=len(keys)))
    bare = draw(st.lists(st.booleans(), min_size=partitions, max_size=partitions))
    runs: list[Run] = [[] for _ in range(partitions)]
    for slot, (key, partition) in enumerate(zip(keys, owner, strict=False)):
        runs[partition].append(key if bare[partition] else (*key, slot))
    for run in runs:
        run.sort()
    return runs, budget, draw(st.integers(0, 10**9))


@given(states(), st.data())
def test_an_entering_key_moves_the_cutoff_as_a_merge_does(
    state: tuple[list[Run], int, int], data: st.DataObject
) -> None:
    runs, budget, seed = state
    cutoff = merged_cutoff(runs, budget)
    if cutoff is None:
        return
    taken = {k[1] for run in runs for k in run}
    score = data.draw(st.sampled_from([-0.95, -0.9, -0.5, -0.25, -0.1]))
    tiebreak = data.draw(st.integers(0, 10**6).filter(lambda t: t not in taken))
    if (score, tiebreak) >= cutoff:
        return
    run = runs[seed % len(runs)]
    bisect.insort(run, (score, tiebreak) if run and len(run[0]) == 2 else (score, tiebreak, -1))
    expected = merged_cutoff(runs, budget)
    assert cutoff_after_step(windows(runs, budget), cutoff, entered=True) == expected


@given(states())
def test_a_leaving_key_moves_the_cutoff_as_a_merge_does(
    state: tuple[list[Run], int, int],
) -> None:
    runs, budget, seed = state
    cutoff = merged_cutoff(runs, budget)
    if cutoff is None:
        return
    within = [
        (run, index)
        for run in runs
        for index, key in enumerate(run[:budget])
        if (key[0], key[1]) <= cutoff
    ]
    run, index = within[seed % len(within)]
    del run[index]
    expected = merged_cutoff(runs, budget)
    assert cutoff_after_step(windows(runs, budget), cutoff, entered=False) == expected


# The engine: many mentees competing for a few mentors with small budgets, so that the cutoff is
# nearly always known and most changes are one entry entering or leaving a shown part.
FEW_SKILLS = ["go", "sql", "rust"]
CROWDED = EngineConfig(top_k=2, exposure_per_seat=1.0, partitions=3, pool_factor=1)


def crowded_mentor(seed: int, user_id: str, capacity: int) -> Person:
    rng = random.Random(seed)
    skills = {s: rng.randint(1, 5) for s in rng.sample(FEW_SKILLS, rng.randint(1, 3))}
    return replace(people.mentor(rng, user_id), skills=skills, capacity=capacity, opted_in=True)


def crowded_goal(seed: int, mentee_id: str, version: int) -> Goal:
    rng = random.Random(seed)
    skills = tuple(rng.sample(FEW_SKILLS, rng.randint(1, 2)))
    return replace(people.goal(rng, mentee_id, version), skills=skills)


steps = st.lists(
    st.tuples(
        st.sampled_from(["goal", "goal", "goal", "forget", "mentor", "exclude"]),
        st.integers(0, 19),
        st.integers(0, 10**6),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), script=steps)
def test_the_engine_following_its_cutoff_step_by_step_equals_a_batch_recompute(
    seed: int, script: list[tuple[str, int, int]]
) -> None:
    engine = TenantEngine(CROWDED)
    mentors = [f"mentor-{i}" for i in range(4)]
    for index, mentor_id in enumerate(mentors):
        engine.put_mentor_data(crowded_mentor(seed + index, mentor_id, 1 + index % 2))
    versions: dict[str, int] = {}
    for action, who, draw in [("goal", i, seed + i) for i in range(20)] + script:
        mentee_id = f"mentee-{who:02d}"
        partition = who % CROWDED.partitions
        if action == "goal":
            versions[mentee_id] = versions.get(mentee_id, 0) + 1
            engine.put_mentee(people.mentee(random.Random(draw), mentee_id), partition)
            engine.put_goal(crowded_goal(draw, mentee_id, versions[mentee_id]), partition)
        elif action == "forget":
            engine.forget(mentee_id)
        elif action == "mentor":
            mentor_id = mentors[who % len(mentors)]
            engine.put_mentor_data(crowded_mentor(draw, mentor_id, 1 + draw % 3))
            engine.refresh_mentor(mentor_id, range(CROWDED.partitions))
        elif mentee_id in engine.roster.partition_of:
            engine.exclude(mentee_id, mentors[draw % len(mentors)], partition)
        engine.drain()
        engine.check_invariants()
    assert engine.ranking_ids() == recompute(population(engine), CROWDED)
