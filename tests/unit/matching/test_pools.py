"""A pool's entries carry each mentor's slot and tiebreak, read from the mentor table by slot
(tiebreak_at): MMR reads the traits at that slot, and the order uses that tiebreak. Both must
stay those of the mentor the entry names, as slots are freed and taken again, or a ranking
would be chosen on another mentor's traits or order."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.people import person_from_profile, tiebreak
from services.matching.domain.search.pools import pool
from services.matching.domain.search.slots import Vocabulary
from services.matching.domain.search.tables import KINDS, MentorTable
from tests.unit.builders import mentor

BASE = person_from_profile(mentor("base"))
MENTORS = [f"m{i}" for i in range(30)]
SCORES = [0.1, 0.25, 0.5, 0.75, 0.9]  # few values: ties in score everywhere


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.tuples(st.booleans(), st.sampled_from(MENTORS)), max_size=60),
    shown_by=st.dictionaries(st.sampled_from([*MENTORS, "gone"]), st.sampled_from(SCORES)),
    size=st.integers(1, 8),
)
def test_pool_entries_carry_their_mentors_slot_and_tiebreak(
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
    assert [m for _, _, m, _ in entries] == best
    for negated, order, mentor_id, slot in entries:
        assert -negated == shown_by[mentor_id]
        assert order == tiebreak(mentor_id)
        assert table.slots.user_ids[slot] == mentor_id
