"""The skill postings: incremental adds may keep stale entries, a rebuild holds exactly the
ranked mentees whose goal names the skill, and neither ever misses one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain import kernels
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.domain.tables import PAD
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
    t = engine.mentees
    found: dict[int, set[int]] = {}
    for slot in t.slots.slot_of.values():
        if t.ranked[slot]:
            for skill in t.goal_skills[slot].tolist():
                if skill != PAD:
                    found.setdefault(skill, set()).add(slot)
    return found


def postings(engine: TenantEngine, skill: int) -> set[int]:
    return set(engine.postings.union([skill], engine.mentees).tolist())


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
    skill_ids = range(len(engine.mentees.vocab["skills"]))
    assert all(postings(engine, s) >= expected.get(s, set()) for s in skill_ids)

    engine.postings.rebuild(engine.mentees)

    assert {s: postings(engine, s) for s in skill_ids} == {
        s: expected.get(s, set()) for s in skill_ids
    }


@settings(max_examples=100, deadline=None)
@given(
    ranked=st.lists(st.booleans(), max_size=40),
    picks=st.lists(st.integers(min_value=0, max_value=39), max_size=80),
)
def test_a_union_holds_each_ranked_slot_once_in_order_and_leaves_the_scratch_clear(
    ranked: list[bool], picks: list[int]
) -> None:
    joined = np.array([p for p in picks if p < len(ranked)], np.int64)
    marks = np.zeros(len(ranked), np.bool_)

    found = kernels.marked_union(joined, np.array(ranked, np.bool_), marks)

    assert found.tolist() == sorted({int(p) for p in joined if ranked[p]})
    assert not marks.any()
