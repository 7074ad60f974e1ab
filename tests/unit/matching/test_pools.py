"""A pool is the best `size` of the mentors showing the mentee that are still in the table, by
score, then tiebreak, then id. pools.pool reads the tiebreaks only when scores tie where they
decide, and carries each mentor's slot for MMR: both must give the rule's mentors in the
rule's order, with each mentor's own slot, as slots are freed and taken again, or a ranking
would differ from its recompute or be chosen on another mentor's traits."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.people import person_from_profile, tiebreak
from services.matching.domain.search.pools import pool
from services.matching.domain.search.tables import KINDS, MentorTable, Vocabulary
from tests.unit.builders import mentor

BASE = person_from_profile(mentor("base"))
MENTORS = [f"m{i}" for i in range(30)]
TIED = st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9])  # few values: ties everywhere
SPREAD = st.floats(0.0, 1.0)  # ties rare: the order is the scores'


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(st.tuples(st.booleans(), st.sampled_from(MENTORS)), max_size=60),
    shown_by=st.sampled_from([TIED, SPREAD]).flatmap(
        lambda scores: st.dictionaries(st.sampled_from([*MENTORS, "gone"]), scores)
    ),
    size=st.integers(1, 8),
)
def test_a_pool_is_the_rules_mentors_with_their_slots(
    steps: list[tuple[bool, str]], shown_by: dict[str, float], size: int
) -> None:
    table = MentorTable({kind: Vocabulary() for kind in KINDS})
    for put, user_id in steps:  # slots freed and taken again by other mentors
        if put:
            table.put(replace(BASE, user_id=user_id), 0, -9, True)
        else:
            table.remove(user_id)
    entries = pool(table, shown_by, size)
    in_table = {m: s for m, s in shown_by.items() if m in table.slots.slot_of}
    best = sorted(in_table, key=lambda m: (-in_table[m], tiebreak(m), m))[:size]
    assert [(shown_by[m], m) for m in best] == [(score, m) for score, m, _ in entries]
    assert all(table.slots.user_ids[slot] == m for _, m, slot in entries)


def test_equal_scores_go_by_tiebreak() -> None:
    table = MentorTable({kind: Vocabulary() for kind in KINDS})
    for user_id in MENTORS:
        table.put(replace(BASE, user_id=user_id), 0, -9, True)
    shown_by = dict.fromkeys(MENTORS[:6], 0.5) | {"m9": 0.9}
    entries = pool(table, shown_by, 4)
    assert entries[0][1] == "m9"
    assert [m for _, m, _ in entries[1:]] == sorted(MENTORS[:6], key=tiebreak)[:3]
