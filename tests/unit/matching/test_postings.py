"""The skill postings: incremental adds may keep stale entries, a rebuild holds exactly the
ranked mentees whose goal names the skill, and neither ever misses one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.domain.search import kernels
from services.matching.domain.search.tables import PAD
from tests.unit.builders import goal, mentee

SKILLS = ("go", "rust", "sql", "kafka", "k8s")
MENTEES = ("m1", "m2", "m3", "m4")

goal_changes = st.lists(
    st.tuples(
        st.sampled_from(MENTEES),
        st.lists(st.sampled_from(SKILLS), min_size=1, max_size=3, unique=True),
        st.booleans(),  # still a mentee afterwards
    ),
    min_size=1,
    max_size=25,
)


def exact_postings(engine: TenantEngine) -> dict[int, set[int]]:
    t = engine.search.mentees
    found: dict[int, set[int]] = {}
    for slot in t.slots.slot_of.values():
        if t.ranked[slot]:
            for skill in t.goal_skills[slot].tolist():
                if skill != PAD:
                    found.setdefault(skill, set()).add(slot)
    return found


def postings(engine: TenantEngine, skill: int) -> set[int]:
    return set(engine.search.postings.reach([(skill, 1)], engine.search.mentees)[0].tolist())


@settings(max_examples=60, deadline=None)
@given(changes=goal_changes)
def test_postings_never_miss_a_mentee_and_a_rebuild_holds_exactly_them(
    changes: list[tuple[str, list[str], bool]],
) -> None:
    engine = TenantEngine(EngineConfig(partitions=2))
    for version, (mentee_id, skills, still_mentee) in enumerate(changes, start=1):
        roles = ["mentee"] if still_mentee else ["mentor"]
        profile = mentee(mentee_id, version, roles=roles, capacity=0 if still_mentee else 1)
        engine.put_mentee(person_from_profile(profile), 0)
        engine.put_goal(goal_from_payload(goal(mentee_id, version, target_skills=skills)), 0)
    expected = exact_postings(engine)
    skill_ids = range(len(engine.search.mentees.vocab["skills"]))
    assert all(postings(engine, s) >= expected.get(s, set()) for s in skill_ids)

    engine.search.postings.rebuild(engine.search.mentees)

    assert {s: postings(engine, s) for s in skill_ids} == {
        s: expected.get(s, set()) for s in skill_ids
    }


@settings(max_examples=100, deadline=None)
@given(
    ranked=st.lists(st.booleans(), max_size=40),
    lists=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=5),
            st.lists(st.integers(min_value=0, max_value=39), max_size=30),
        ),
        max_size=5,
    ),
)
def test_a_union_holds_each_ranked_slot_once_in_order_with_its_levels_summed(
    ranked: list[bool], lists: list[tuple[int, list[int]]]
) -> None:
    """And leaves the scratch all 0. A slot named twice in one list counts twice: the sum is
    a bound, and a repeated posting only raises it."""
    parts = [(level, [p for p in picks if p < len(ranked)]) for level, picks in lists]
    sums = np.zeros(len(ranked), np.int32)

    for level, picks in parts:
        kernels.add_level(sums, np.array(picks, np.int64), level)
    most = sum(len(picks) for _, picks in parts)
    found, reach = kernels.summed_slots(sums, np.array(ranked, np.bool_), most)

    expected: dict[int, int] = {}
    for level, picks in parts:
        for p in picks:
            if ranked[p]:
                expected[p] = expected.get(p, 0) + level
    assert found.tolist() == sorted(expected)
    assert reach.tolist() == [expected[p] for p in sorted(expected)]
    assert not sums.any()
