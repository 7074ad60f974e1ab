"""Searches split into parts find what one pass finds: a mentor's search (parts sharing their
bars) the best mentees of one unpruned pass, a goal's search every mentor reaching its floor
with score_pair's exact total (its vectorised bound dropping none of them)."""

from __future__ import annotations

import dataclasses
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.criteria import score_pair, skill_level_sum
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal
from services.matching.domain.search.pruning import Contenders, best_mentees, mentors_reaching
from services.matching.service_layer.search_threads import HelperThreads, helper_threads
from tests.support import population

PARTITIONS = 3


@pytest.fixture(scope="module")
def engine() -> TenantEngine:
    rng = random.Random(7)
    built = TenantEngine(EngineConfig(partitions=PARTITIONS))
    for index in range(30):
        built.put_mentor_data(population.mentor(rng, f"mentor-{index:02d}"))
    for index in range(900):
        mentee_id = f"mentee-{index:03d}"
        built.put_mentee(population.mentee(rng, mentee_id), index % PARTITIONS)
        built.put_goal(population.goal(rng, mentee_id), index % PARTITIONS)
    return built


def search(
    engine: TenantEngine, mentor_id: str, length: int, split: tuple[int, int]
) -> dict[int, Contenders]:
    mentor = engine.mentor(mentor_id)
    assert mentor is not None
    candidates = engine.search.level_sums(mentor)
    constraints = (engine.search.person_ids.id(mentor_id), -9, np.zeros(0, np.int64))
    lengths = dict.fromkeys(range(engine.config.partitions), length)
    table, mentors = engine.search.mentees, engine.search.mentors
    run = helper_threads()
    return best_mentees(table, mentors, mentor, candidates, lengths, constraints, split, run)


def best(found: Contenders, length: int) -> list[tuple[float, int]]:
    return sorted(zip((-found.totals).tolist(), found.slots.tolist(), strict=True))[:length]


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_split_searches_find_the_best_mentees_of_one_unpruned_pass(
    engine: TenantEngine, threads: int
) -> None:
    compared = 0
    for index in range(30):
        mentor_id = f"mentor-{index:02d}"
        everyone = search(engine, mentor_id, 10_000, (1, 1))  # never full: nothing pruned
        for length in (1, 3):
            split = search(engine, mentor_id, length, (threads, 1))
            for p in range(PARTITIONS):
                assert best(split[p], length) == best(everyone[p], length)
                exact_to = length + 1  # enough to tell whether the list holds them all
                assert min(split[p].eligible, exact_to) == min(everyone[p].eligible, exact_to)
                compared += everyone[p].slots.size > length  # pruning had something to drop
    assert compared > 30


def test_a_search_of_one_partition_finds_that_partition_of_the_whole_search(
    engine: TenantEngine,
) -> None:
    """A list left spent is searched alone: its search reads only its partition's candidates
    and finds what the search of every partition finds there."""
    compared = 0
    for index in range(30):
        mentor = engine.mentor(f"mentor-{index:02d}")
        assert mentor is not None
        for length in (1, 3):
            whole = engine.search.best_mentees(mentor, dict.fromkeys(range(PARTITIONS), length), ())
            for p in range(PARTITIONS):
                alone = engine.search.best_mentees(mentor, {p: length}, ())
                if p not in whole:
                    assert alone == {}
                    continue
                partition = engine.search.mentees.partition[alone[p].slots]
                assert (partition == p).all()
                assert best(alone[p], length) == best(whole[p], length)
                exact_to = length + 1
                assert min(alone[p].eligible, exact_to) == min(whole[p].eligible, exact_to)
                compared += whole[p].slots.size > 0
    assert compared > 30


@pytest.mark.parametrize("threads", [1, 2, 5])
@pytest.mark.parametrize("closed_share", [0.0, 0.5, 1.0])
def test_split_goal_searches_find_every_mentor_reaching_its_floor(
    engine: TenantEngine, threads: int, closed_share: float
) -> None:
    """Closed lists are all looked at; the others only where a bound reaches the floor."""
    m = engine.search.mentors
    random_values = np.random.default_rng(3)
    floors = random_values.uniform(0.3, 0.8, (PARTITIONS, m.slots.high_water))
    closed = random_values.uniform(0, 1, floors.shape) < closed_share
    for index in range(0, 900, 7):
        mentee_id = f"mentee-{index:03d}"
        slot, partition = engine.search.mentees.slots.slot_of[mentee_id], index % PARTITIONS
        goal, mentee = engine.roster.goals[mentee_id], engine.roster.profiles[mentee_id]
        scores = {
            mentor_slot: score_pair(goal, mentee, mentor).total
            for mentor_slot, mentor in enumerate(m.people[: m.slots.high_water])
            if mentor is not None and m.open[mentor_slot] and skill_level_sum(goal, mentor) > 0
        }
        constraints = (engine.search.person_ids.id(mentee_id), -9, np.zeros(0, np.int64))
        reachable = (floors[partition], closed[partition])
        found = mentors_reaching(
            engine.search.mentees, m, slot, constraints, reachable, (threads, 1), helper_threads()
        )
        assert dict(zip(found.slots.tolist(), found.totals.tolist(), strict=True)) == {
            s: total for s, total in scores.items() if total >= floors[partition, s]
        }
        assert found.slots.tolist() == sorted(found.slots.tolist())
        left_out = {s for s in scores.keys() - set(found.slots.tolist()) if closed[partition, s]}
        assert set(found.left_out.tolist()) == left_out


def test_a_part_no_helper_has_started_runs_in_the_callers_thread() -> None:
    helpers = ThreadPoolExecutor(max_workers=2)
    release = threading.Event()
    busy = [helpers.submit(release.wait, 30) for _ in range(2)]
    run = HelperThreads(helpers)
    try:
        done = run(lambda base, part: (base, part), (10,), ["first", "second", "third"])
        assert done == [(10, "first"), (10, "second"), (10, "third")]
        assert not any(task.done() for task in busy)  # every helper was still taken
    finally:
        release.set()
        helpers.shutdown()


def test_a_goal_naming_no_skill_reaches_no_mentor(engine: TenantEngine) -> None:
    """The contract asks for a skill; the engine must not fail on a goal without one."""
    mentee_id = "mentee-000"
    skills_named = engine.roster.goals[mentee_id]
    engine.put_goal(Goal(mentee_id, 99, "no-skills", (), (), (), "similar", ()), 0)
    try:
        assert engine.ranking(mentee_id) == ()
    finally:
        engine.put_goal(skills_named, 0)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_search_counts_past_the_length_when_the_first_mentee_is_the_best(threads: int) -> None:
    """The first mentee scores 1 and every later one at most 0.5, so each could be dropped
    unread once the list is full; the list must still learn it does not hold them all."""
    rng = random.Random(5)
    engine = TenantEngine(EngineConfig(partitions=1))
    mentor = dataclasses.replace(population.mentor(rng, "mentor"), skills={"go": 5})
    engine.put_mentor_data(mentor)
    skills_only = (1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    for index in range(40):
        mentee_id = f"mentee-{index:02d}"
        skills = ("go",) if index == 0 else ("go", f"other-{index}")
        engine.put_mentee(population.mentee(rng, mentee_id), 0)
        engine.put_goal(
            Goal(mentee_id, 1, "default", skills, (), (), "similar", (), skills_only), 0
        )
    levels = [(engine.search.mentees.vocab["skills"].id("go"), 5)]
    candidates = engine.search.postings.summed(levels, engine.search.mentees)
    constraints = (engine.search.person_ids.id("mentor"), -9, np.zeros(0, np.int64))

    table, mentors = engine.search.mentees, engine.search.mentors
    split, run = (threads, 1), helper_threads()
    found = best_mentees(table, mentors, mentor, candidates, {0: 1}, constraints, split, run)[0]

    assert best(found, 1) == [(-1.0, engine.search.mentees.slots.slot_of["mentee-00"])]
    assert found.eligible > 1


@pytest.mark.parametrize("reused", [False, True])
def test_a_mentors_search_passes_over_a_goal_that_names_no_skill_any_more(reused: bool) -> None:
    """Its old posting stays until a rebuild: the goal changed, or its slot went to a mentee
    whose goal names none."""
    rng = random.Random(3)
    engine = TenantEngine(EngineConfig(partitions=1))
    mentor = dataclasses.replace(population.mentor(rng, "mentor"), skills={"go": 5})
    engine.put_mentor_data(mentor)
    engine.put_mentee(population.mentee(rng, "mentee"), 0)
    engine.put_goal(Goal("mentee", 1, "default", ("go",), (), (), "similar", ()), 0)
    no_skill = "newcomer" if reused else "mentee"
    if reused:
        engine.forget("mentee")
        engine.put_mentee(population.mentee(rng, no_skill), 0)
    engine.put_goal(Goal(no_skill, 2, "default", (), (), (), "similar", ()), 0)

    engine.refresh_mentor("mentor", [0])

    assert engine.list_entries("mentor", 0) == ([], False)


@pytest.fixture(scope="module")
def crowded() -> TenantEngine:
    """Every goal names "go": a mentor holding it has 6,000 candidates, parts of thousands."""
    rng = random.Random(11)
    built = TenantEngine(EngineConfig(partitions=2))
    for index in range(4):
        mentor = population.mentor(rng, f"mentor-{index}")
        skills = {**mentor.skills, "go": 2 + index}
        built.put_mentor_data(dataclasses.replace(mentor, skills=skills))
    for index in range(6_000):
        mentee_id = f"mentee-{index:04d}"
        goal = population.goal(rng, mentee_id)
        built.put_mentee(population.mentee(rng, mentee_id), index % 2)
        built.put_goal(dataclasses.replace(goal, skills=("go", *goal.skills[:2])), index % 2)
    return built


@pytest.mark.parametrize("threads", [2, 3])
def test_parts_of_thousands_of_candidates_agree_with_one_unpruned_pass(
    crowded: TenantEngine, threads: int
) -> None:
    """At each block a part raises its bars to the best another part published (the
    kernel's gather step); its best and counts must stay those of one unpruned pass."""
    for index in range(4):
        mentor = crowded.mentor(f"mentor-{index}")
        assert mentor is not None
        assert crowded.search.candidates(mentor)[0].size // threads > 1_024
        everyone = search(crowded, mentor.user_id, 10_000, (1, 1))
        for length in (1, 4):
            split = search(crowded, mentor.user_id, length, (threads, 1))
            for p in range(2):
                assert best(split[p], length) == best(everyone[p], length)
                assert min(split[p].eligible, length + 1) == length + 1
                assert split[p].slots.size < everyone[p].slots.size  # it did prune
