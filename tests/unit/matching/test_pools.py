"""A re-rank builds its mentees' pools as arrays for the whole batch (pools.pools_of); the rule
is pools.pool, one mentee at a time, which the invariant checks and the explanations use. Both
must give the same entries in the same order, ties, mentors no longer in the table and full
pools' floors included, or an incremental ranking could differ from its recompute."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.people import person_from_profile
from services.matching.domain.search.pools import from_entries, pool, pools_of
from services.matching.domain.search.slots import Vocabulary
from services.matching.domain.search.tables import KINDS, MentorTable
from tests.unit.builders import mentor

BASE = person_from_profile(mentor("base"))
MENTORS = [f"m{i}" for i in range(40)]
SCORES = [0.1, 0.25, 0.5, 0.75, 0.9]  # few values: ties in score everywhere


def table_of(removed: set[str], shared_tiebreak: set[str]) -> MentorTable:
    """The mentors in a table, less `removed`; `shared_tiebreak` all get one tiebreak (a
    collision of people.tiebreak: their ids order them)."""
    table = MentorTable({kind: Vocabulary() for kind in KINDS})
    for user_id in MENTORS:
        slot = table.put(replace(BASE, user_id=user_id), 0, -9, True)
        if user_id in shared_tiebreak:
            table.tiebreaks[user_id] = table.tiebreak[slot] = 12345
    for user_id in removed:
        table.remove(user_id)
    return table


shown_maps = st.lists(
    st.dictionaries(st.sampled_from([*MENTORS, "gone-1", "gone-2"]), st.sampled_from(SCORES)),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(
    shown=shown_maps,
    size=st.integers(1, 8),
    removed=st.sets(st.sampled_from(MENTORS), max_size=5),
    shared_tiebreak=st.sets(st.sampled_from(MENTORS), max_size=4),
)
def test_the_batch_pools_are_each_mentees_pool(
    shown: list[dict[str, float]], size: int, removed: set[str], shared_tiebreak: set[str]
) -> None:
    table = table_of(removed, shared_tiebreak)
    one_by_one = [pool(table, shown_by, size) for shown_by in shown]
    batch = pools_of(table, shown, size)
    expected = from_entries(table, one_by_one)
    assert batch.starts.tolist() == expected.starts.tolist()
    assert batch.scores.tolist() == expected.scores.tolist()
    assert batch.slots.tolist() == expected.slots.tolist()
    floors = [-entries[-1][0] if len(entries) == size else None for entries in one_by_one]
    assert batch.floors(size) == floors


def test_equal_scores_go_by_tiebreak_and_equal_tiebreaks_by_id() -> None:
    table = table_of(set(), {"m3", "m1"})
    shown = {"m3": 0.5, "m1": 0.5, "m2": 0.5, "m4": 0.9}
    batch = pools_of(table, [shown], 4)
    ids = [table.slots.user_ids[s] for s in batch.slots.tolist()]
    slot_of = table.slots.slot_of
    rest = sorted(["m2", "m1"], key=lambda m: int(table.tiebreak[slot_of[m]]))
    assert ids[0] == "m4"  # the best score first
    assert ids.index("m1") < ids.index("m3")  # one tiebreak: the ids decide
    assert [m for m in ids if m in rest] == rest
    assert np.all(np.diff(batch.scores) <= 0)
