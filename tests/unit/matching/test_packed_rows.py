"""The packed rows a mentor's search reads: masks where they count exactly, the ids where not
(value ids of 63 and beyond, a value named twice: the ids count it twice, as the search always
has; parsed goals name each once), and the search's totals equal to score_pair's either way."""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.criteria import score_pair, skill_level_sum
from services.matching.domain.engine import TenantEngine
from services.matching.domain.search.packed_rows import MORE, mentor_mask, packed_rows, row_mask
from services.matching.domain.search.pruning import best_mentees
from tests.support import population

PAD = -1


def test_a_mask_holds_the_ids_below_63_and_says_when_to_read_the_ids_instead() -> None:
    ids = np.array(
        [
            [0, 5, 62, PAD],  # exact
            [3, 63, PAD, PAD],  # an id beyond the mask
            [4, 4, PAD, PAD],  # named twice: a mask would count it once
            [1, 2, PAD, PAD],  # the count says 3: the ids were cut short
            [PAD, PAD, PAD, PAD],
        ],
        np.int16,
    )
    masks = [row_mask(ids, row, count) for row, count in enumerate([3, 2, 2, 3, 0])]

    assert int(masks[0]) == (1 << 0) | (1 << 5) | (1 << 62)
    assert [bool(m & MORE) for m in masks] == [False, True, True, True, False]
    assert not row_mask(ids, 3, -1) & MORE  # no count to match


def test_a_mentors_mask_holds_its_values_below_63() -> None:
    lookup = np.zeros(71, np.int64)  # 70 values and PAD's cell
    lookup[[2, 40, 65]] = 1
    assert int(mentor_mask(lookup)) == (1 << 2) | (1 << 40)


def test_rows_start_on_a_cache_line_and_keep_their_values_as_they_grow() -> None:
    rows = packed_rows(100_000)
    rows["uid"][:3] = [7, 8, 9]
    grown = packed_rows(200_000, rows)
    assert rows.ctypes.data % 64 == grown.ctypes.data % 64 == 0
    assert grown["uid"][:4].tolist() == [7, 8, 9, 0]


def test_a_search_over_ids_beyond_the_masks_scores_as_score_pair_does() -> None:
    rng = random.Random(11)
    engine = TenantEngine(EngineConfig(partitions=1))
    industries = [f"industry-{i:02d}" for i in range(70)]
    for name in industries:  # ids in this order: the last 7 are beyond the masks
        engine.search.mentees.vocab["industries"].id(name)
    for index in range(12):
        mentor = population.mentor(rng, f"mentor-{index:02d}")
        held = (industries[60 + index % 10], *rng.sample(industries, 5))
        engine.put_mentor_data(dataclasses.replace(mentor, industries=held, languages=("en",)))
    for index in range(300):
        mentee_id = f"mentee-{index:03d}"
        named = tuple(sorted(rng.sample(industries, rng.randint(1, 4))))  # distinct, as
        goal = dataclasses.replace(population.goal(rng, mentee_id), industries=named)  # parsed
        engine.put_mentee(population.mentee(rng, mentee_id), 0)
        engine.put_goal(goal, 0)
    assert (engine.search.mentees.packed["industries"][:300] & MORE).any()
    assert not (engine.search.mentees.packed["industries"][:300] & MORE).all()

    for index in range(12):
        mentor = engine.mentor(f"mentor-{index:02d}")
        assert mentor is not None
        candidates = engine.search.level_sums(mentor)
        constraints = (engine.search.person_ids.id(mentor.user_id), -9, np.zeros(0, np.int64))
        found = best_mentees(
            engine.search.mentees,
            engine.search.mentors,
            mentor,
            candidates,
            {0: 10_000},
            constraints,
        )[0]  # never full: every eligible mentee is scored in full

        names = engine.search.mentees.slots.user_ids
        expected = {}
        for mentee_id, goal in engine.roster.goals.items():
            if skill_level_sum(goal, mentor) > 0:
                expected[mentee_id] = score_pair(
                    goal, engine.roster.profiles[mentee_id], mentor
                ).total
        scored = zip(found.slots.tolist(), found.totals.tolist(), strict=True)
        got = {names[slot]: total for slot, total in scored}
        assert got == expected
        assert found.eligible == len(expected)
