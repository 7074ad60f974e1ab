"""Re-ranking runs MMR compiled, on mentors' traits as bit words; the batch recompute runs
diversify() on sets. Both must pick the same mentors in the same order, ties included, or
incremental rankings could differ from a recompute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.batch import mentor_similarity
from services.matching.domain.diversify import Candidate, by_relevance, diversify
from services.matching.domain.people import person_from_profile
from services.matching.domain.search.diversity import diversified_each
from services.matching.domain.search.slots import Vocabulary
from services.matching.domain.search.tables import KINDS, MentorTable
from tests.unit.builders import mentor

SKILLS = [f"skill-{i}" for i in range(150)]
INDUSTRIES = [f"industry-{i}" for i in range(90)]
BASE = person_from_profile(mentor("base"))

drawn_mentors = st.lists(
    st.tuples(
        st.lists(st.sampled_from(SKILLS), max_size=12, unique=True),
        st.lists(st.sampled_from(INDUSTRIES), max_size=6, unique=True),
        st.sampled_from([0.2, 0.5, 0.7, 0.9]),  # few values: ties in relevance and in MMR
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=300, deadline=None)  # the first call loads the compiled kernel
@given(
    drawn_pools=st.lists(drawn_mentors, min_size=1, max_size=3),
    k=st.integers(1, 6),
    diversity=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
    interned=st.sampled_from([0, 60, 130]),  # names known before: ids past one 64-bit word
)
def test_compiled_mmr_picks_what_diversify_picks_in_each_pool(
    drawn_pools: list[list[tuple[list[str], list[str], float]]],
    k: int,
    diversity: float,
    interned: int,
) -> None:
    people = {
        f"m{p}-{i}": replace(
            BASE, user_id=f"m{p}-{i}", skills=dict.fromkeys(skills, 3), industries=tuple(inds)
        )
        for p, drawn in enumerate(drawn_pools)
        for i, (skills, inds, _) in enumerate(drawn)
    }
    vocab = {kind: Vocabulary() for kind in KINDS}
    for index in range(interned):
        vocab["skills"].id(f"earlier-{index}")
        vocab["industries"].id(f"earlier-{index}")
    table = MentorTable(vocab)
    slots = {user_id: table.put(person, 0, -9, True) for user_id, person in people.items()}
    pools = [
        by_relevance([Candidate(f"m{p}-{i}", score, i) for i, (*_, score) in enumerate(drawn)])
        for p, drawn in enumerate(drawn_pools)
    ]

    def similarities(others: Sequence[Candidate], picked: Candidate) -> list[float]:
        chosen = people[str(picked.key)]
        return [mentor_similarity(people[str(c.key)], chosen) for c in others]

    entries = [c for pool in pools for c in pool]
    picks = diversified_each(
        np.array([c.score for c in entries]),
        np.array([slots[str(c.key)] for c in entries], np.int64),
        np.cumsum([0, *map(len, pools)]),
        table.traits.rows,
        table.traits.skill_words,
        k,
        diversity,
    )
    for pool, row in zip(pools, picks.tolist(), strict=True):
        expected = diversify(pool, k, diversity, similarities)
        assert [pool[i].key for i in row if i >= 0] == [c.key for c in expected]
        assert row[len(expected) :] == [-1] * (k - len(expected))
