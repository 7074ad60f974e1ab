"""A mentor's search over many blocks of candidates (search/mentor_scan.py) finds what one
unpruned pass finds: each block is bounded with the bars the blocks before it raised, and a
candidate dropped there could not have been among the best."""

from __future__ import annotations

import random

import numpy as np
import pytest

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.search import Contenders, in_order
from services.matching.domain.search.mentor_scan import BLOCK
from services.matching.domain.search.pruning import best_mentees
from tests.support import population

PARTITIONS = 2


@pytest.fixture(scope="module")
def engine() -> TenantEngine:
    rng = random.Random(11)
    built = TenantEngine(EngineConfig(partitions=PARTITIONS))
    for index in range(12):
        built.put_mentor_data(population.mentor(rng, f"mentor-{index:02d}"))
    for index in range(16 * BLOCK):
        mentee_id = f"mentee-{index:05d}"
        built.put_mentee(population.mentee(rng, mentee_id), index % PARTITIONS)
        built.put_goal(population.goal(rng, mentee_id), index % PARTITIONS)
    return built


def search(engine: TenantEngine, mentor_id: str, length: int) -> dict[int, Contenders]:
    mentor = engine.mentor(mentor_id)
    assert mentor is not None
    candidates = engine.search.level_sums(mentor)
    constraints = (engine.search.person_ids.id(mentor_id), -9, np.zeros(0, np.int64))
    lengths = dict.fromkeys(range(PARTITIONS), length)
    table, mentors = engine.search.mentees, engine.search.mentors
    return best_mentees(table, mentors, mentor, candidates, lengths, constraints, run=in_order)


def best(found: Contenders, length: int) -> list[tuple[float, int]]:
    return sorted(zip((-found.totals).tolist(), found.slots.tolist(), strict=True))[:length]


def test_a_search_over_many_blocks_keeps_the_best_of_one_unpruned_pass(
    engine: TenantEngine,
) -> None:
    pruned_away = 0
    for index in range(12):
        mentor_id = f"mentor-{index:02d}"
        mentor = engine.mentor(mentor_id)
        assert mentor is not None
        assert engine.search.candidates(mentor)[0].size > 2 * BLOCK  # several blocks
        everyone = search(engine, mentor_id, 100_000)  # never full: nothing pruned
        for length in (1, 4, 16):
            found = search(engine, mentor_id, length)
            for p in range(PARTITIONS):
                assert best(found[p], length) == best(everyone[p], length)
                exact_to = length + 1  # enough to tell whether the list holds them all
                assert min(found[p].eligible, exact_to) == min(everyone[p].eligible, exact_to)
                pruned_away += everyone[p].slots.size - found[p].slots.size
            assert not engine.search.postings.summed([], engine.search.mentees)[0].any()
    assert pruned_away > 0
