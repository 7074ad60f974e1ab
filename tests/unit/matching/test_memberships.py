"""Memberships behaves as a dict of sets, whatever form it keeps each mentee's mentors in."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.search.memberships import SMALL, Memberships

MENTEES = st.integers(0, 1)
MENTORS = st.sampled_from([f"mentor-{i}" for i in range(SMALL + 3)])
STEPS = st.lists(st.tuples(st.sampled_from(["add", "discard", "pop"]), MENTEES, MENTORS))


@settings(max_examples=300)
@given(STEPS)
def test_memberships_equal_a_dict_of_sets(steps: list[tuple[str, int, str]]) -> None:
    kept, model = Memberships(), dict[int, set[str]]()
    for step, mentee, mentor_id in steps:
        if step == "add":
            kept.add(mentee, mentor_id)
            model.setdefault(mentee, set()).add(mentor_id)
        elif step == "discard":
            kept.discard(mentee, mentor_id)
            model.get(mentee, set()).discard(mentor_id)
        else:
            assert set(kept.pop(mentee)) == model.pop(mentee, set())
        for each in range(2):
            assert sorted(kept.of(each)) == sorted(model.get(each, set()))


def test_a_mentee_in_no_list_keeps_no_entry() -> None:
    kept = Memberships()
    kept.add(1, "a")
    kept.add(1, "b")
    kept.discard(1, "a")
    kept.discard(1, "b")
    assert not kept.mentees()


def test_small_memberships_are_tuples_and_large_ones_sets() -> None:
    kept = Memberships()
    for index in range(SMALL + 1):
        kept.add(7, f"m{index}")
    assert isinstance(kept.of(7), set)
    kept.discard(7, "m0")
    assert isinstance(kept.of(7), tuple) and len(kept.of(7)) == SMALL


def test_a_large_membership_shrinks_one_mentor_at_a_time() -> None:
    kept, ids = Memberships(), [f"m{index}" for index in range(4 * SMALL)]
    for mentor_id in ids:
        kept.add(3, mentor_id)
    while ids:
        kept.discard(3, ids.pop())
        assert sorted(kept.of(3)) == sorted(ids)
