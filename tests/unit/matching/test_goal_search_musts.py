"""A goal's search with musts: a mentor lacking one is passed over like one that is not open,
neither found nor counted as a full list the goal stayed out of (search/must_index.py)."""

from __future__ import annotations

import numpy as np

from services.matching.domain.constraints import open_to_mentees
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.domain.search import SearchIndex
from tests.unit.builders import goal, mentee, mentor

SKILL = [{"name": "kubernetes", "level": 5}]


def _search() -> tuple[SearchIndex, int]:
    search = SearchIndex()
    for user_id, languages in (("english", ["en"]), ("german", ["de", "en"]), ("french", ["fr"])):
        person = person_from_profile(mentor(user_id, skills=SKILL, languages=languages))
        search.put_mentor(person, open_to_mentees(person, 0))
    ada = person_from_profile(mentee("ada", languages=["de", "en"]))
    wanted = goal_from_payload(goal("ada", musts={"languages": ["de"]}))
    return search, search.put_mentee("ada", ada, wanted, 0)


def _slots(search: SearchIndex, found: np.ndarray) -> set[str]:
    return {search.mentors.slots.user_ids[s] or "" for s in found.tolist()}


def test_mentors_lacking_a_must_are_neither_found_nor_left_out() -> None:
    search, slot = _search()
    capacity = search.mentor_capacity()
    closed = np.ones(capacity, np.bool_)  # every list full: a goal below a floor is left out
    anyone = search.mentors_reaching(slot, (), (np.full(capacity, -1.0), closed))
    assert _slots(search, anyone.slots) == {"german"}
    assert _slots(search, anyone.left_out) == set()
    nobody = search.mentors_reaching(slot, (), (np.full(capacity, 2.0), closed))
    assert _slots(search, nobody.slots) == set()
    assert _slots(search, nobody.left_out) == {"german"}


def test_relaxing_the_must_finds_the_others_and_an_unknown_value_nobody() -> None:
    search, slot = _search()
    assert _slots(search, search.eligible_mentors(slot, (), ()).slots) == {
        "english",
        "german",
        "french",
    }
    unknown = (("languages", "tlh"),)
    assert _slots(search, search.eligible_mentors(slot, (), unknown).slots) == set()
    excluded = search.eligible_mentors(slot, ["german"], (("languages", "en"),))
    assert _slots(search, excluded.slots) == {"english"}
