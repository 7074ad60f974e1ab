"""One score: every compiled search scores a pair exactly as criteria.score_pair does.

Hypothesis draws small tenants (goals, mentees, mentors) through the contracts, as the service
receives them: duplicate names, goals without skills, zero weights, musts (some no mentor
meets), and value ids past the 64-bit masks of the packed rows (the vocabularies are padded
first). Over every (goal, mentee, mentor) triple, eligible meaning also every must met:
- a mentor's search (mentor_scan.best_mentees), unpruned, finds exactly the eligible mentees with
  score_pair's total, to the last bit; pruned to its best `length`, it keeps their scores;
- a goal's search (kernels.mentors_reaching) finds exactly the eligible mentors with that total;
- the float32 bound (bound.within_reach) is at least the exact score less ROUNDING (1e-5): with
  every list's floor set to the pair's exact score, no eligible mentor is dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching.domain.constraints import allowed_pair, open_to_mentees
from services.matching.domain.criteria import score_pair, skill_level_sum
from services.matching.domain.musts import meets
from services.matching.domain.people import (
    CRITERIA,
    Goal,
    Person,
    goal_from_payload,
    person_from_profile,
)
from services.matching.domain.search import SearchIndex
from services.matching.domain.search.bound import ROUNDING
from tests.unit.builders import goal, mentee, mentor

SKILLS = ["go", "kubernetes", "python", "sql", "rust"]
INDUSTRIES = ["fintech", "health", "retail", "energy"]
FUNCTIONS = ["engineering", "product", "design"]
LANGUAGES = ["en", "fr", "de"]
STYLES = ["coaching", "advising", "sponsoring", "teaching"]
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo"]
WIDE_KINDS = ("skills", "industries", "functions", "styles", "languages", "bgpairs", "bgdims")

weights = st.floats(0, 1) | st.just(0.0)
availability = st.lists(
    st.fixed_dictionaries(
        {"weekday": st.integers(0, 6), "start": st.sampled_from(["08:00", "13:00", "18:00"])}
    ).map(
        lambda s: {**s, "end": {"08:00": "10:00", "13:00": "14:00", "18:00": "21:00"}[s["start"]]}
    ),
    max_size=3,
)
common = {
    "years_experience": st.integers(0, 40),
    "industries": st.lists(st.sampled_from(INDUSTRIES), max_size=4),  # duplicates allowed
    "functions": st.lists(st.sampled_from(FUNCTIONS), max_size=3),
    "languages": st.lists(st.sampled_from(LANGUAGES), max_size=3),
    "background": st.dictionaries(
        st.sampled_from(["education", "region"]), st.sampled_from(["a", "b"]), max_size=2
    ),
    "mentoring_styles": st.lists(st.sampled_from(STYLES), max_size=3),
    "timezone": st.sampled_from(ZONES),
    "availability": availability,
}
mentor_fields = st.fixed_dictionaries(
    {
        **common,
        "skills": st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=4).map(
            lambda levels: [{"name": n, "level": v} for n, v in levels.items()]
        ),
        "capacity": st.integers(0, 3),
        "opted_in": st.booleans(),
    }
)
goal_fields = st.fixed_dictionaries(
    {
        "target_skills": st.lists(st.sampled_from(SKILLS), min_size=1, max_size=4),
        "target_industries": st.lists(st.sampled_from(INDUSTRIES), max_size=3),
        "target_functions": st.lists(st.sampled_from(FUNCTIONS), max_size=2),
        "background_preference": st.sampled_from(["similar", "different", "no_preference"]),
        "preferred_styles": st.lists(st.sampled_from(STYLES), max_size=3),
        "criteria": st.fixed_dictionaries(dict.fromkeys(CRITERIA, weights)),
        "musts": st.fixed_dictionaries(  # "nl": a language no mentor speaks
            {
                "languages": st.lists(st.sampled_from([*LANGUAGES, "nl"]), max_size=2, unique=True),
                "industries": st.lists(st.sampled_from(INDUSTRIES), max_size=1),
                "styles": st.lists(st.sampled_from(STYLES), max_size=2, unique=True),
            }
        )
        | st.just({}),
    }
)
tenants = st.fixed_dictionaries(
    {
        "mentors": st.lists(mentor_fields, min_size=1, max_size=5),
        "mentees": st.lists(
            st.tuples(st.fixed_dictionaries(common), goal_fields), min_size=1, max_size=5
        ),
        "padding": st.sampled_from([0, 70]),  # value ids past the masks' 63
        "skill_free": st.sets(st.integers(0, 4)),  # these mentees' goals name no skill
    }
)

Tenant = tuple[SearchIndex, list[Person], list[tuple[Person, Goal]]]


def build(drawn: dict[str, Any]) -> Tenant:
    search = SearchIndex()
    for kind in WIDE_KINDS:
        vocab = search.mentees.vocab[kind]
        for index in range(drawn["padding"]):
            vocab.id(f"unused-{index}")
    mentors = [
        person_from_profile(mentor(f"mentor-{i}", **fields))
        for i, fields in enumerate(drawn["mentors"])
    ]
    for person in mentors:
        search.put_mentor(person, open_to_mentees(person, 0))
    mentees = []
    for i, (fields, wanted) in enumerate(drawn["mentees"]):
        person = person_from_profile(mentee(f"mentee-{i}", **fields))
        mentee_goal = goal_from_payload(goal(person.user_id, **wanted))
        if i in drawn["skill_free"]:
            mentee_goal = Goal(**{**_fields(mentee_goal), "skills": ()})
        search.put_mentee(person.user_id, person, mentee_goal, 0)
        mentees.append((person, mentee_goal))
    return search, mentors, mentees


def _fields(item: Goal) -> dict[str, Any]:
    return {name: getattr(item, name) for name in Goal.__dataclass_fields__}


def exact(
    mentees: list[tuple[Person, Goal]], mentors: list[Person]
) -> dict[tuple[str, str], float]:
    """score_pair's total of every eligible (mentee, mentor) pair."""
    return {
        (person.user_id, m.user_id): score_pair(wanted, person, m).total
        for person, wanted in mentees
        for m in mentors
        if open_to_mentees(m, 0)
        and allowed_pair(person, m)
        and wanted.skills
        and skill_level_sum(wanted, m) > 0
        and meets(wanted, m)
    }


def reaching(search: SearchIndex, mentee_id: str, floor: dict[int, float]) -> dict[str, float]:
    """A goal's search with these floors (closed lists: none)."""
    capacity = search.mentor_capacity()
    floors = np.full(capacity, 2.0)
    for slot, value in floor.items():
        floors[slot] = value
    slot = search.mentee_slot(mentee_id)
    assert slot is not None
    found = search.mentors_reaching(slot, (), (floors, np.zeros(capacity, np.bool_)))
    people = search.mentors.slots.user_ids
    return {
        people[s] or "": t for s, t in zip(found.slots.tolist(), found.totals.tolist(), strict=True)
    }


def mentor_search(search: SearchIndex, person: Person, length: int) -> dict[str, float]:
    found = search.best_mentees(person, {0: length}, ()).get(0)
    if found is None:
        return {}
    return {
        search.mentee_id(s): t
        for s, t in zip(found.slots.tolist(), found.totals.tolist(), strict=True)
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=tenants)
def test_every_search_scores_every_pair_as_score_pair_does(drawn: dict[str, Any]) -> None:
    search, mentors, mentees = build(drawn)
    expected = exact(mentees, mentors)

    for person in mentors:  # a mentor's search, never full: nothing pruned
        got = mentor_search(search, person, 10_000)
        want = {x: total for (x, m), total in expected.items() if m == person.user_id}
        assert got == want, person.user_id
        for length in (1, 2):  # pruned: its best `length` scores are the exact best
            best = sorted(mentor_search(search, person, length).values(), reverse=True)
            assert best[:length] == sorted(want.values(), reverse=True)[:length]

    slot_of = search.mentors.slots.slot_of
    for person, _ in mentees:  # a goal's search, over every mentor
        want = {m: total for (x, m), total in expected.items() if x == person.user_id}
        everyone = {slot: -1.0 for slot in slot_of.values()}
        assert reaching(search, person.user_id, everyone) == want, person.user_id
        # The bound: with each floor at the pair's exact score, every pair still reaches it.
        at_exact = {slot_of[m]: total for m, total in want.items()}
        assert reaching(search, person.user_id, at_exact) == want, person.user_id
        # Just above the exact score (more than ROUNDING), no pair reaches it.
        above = {slot: total + 2 * ROUNDING for slot, total in at_exact.items()}
        assert reaching(search, person.user_id, above) == {}, person.user_id
