"""The mentor table's rows hold exactly the current mentors' values after any puts and removals."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.people import Person
from services.matching.domain.search.slots import Vocabulary
from services.matching.domain.search.tables import KINDS, MentorTable
from tests.support import population

IDS = [f"mentor-{index}" for index in range(6)]
STEPS = st.lists(st.tuples(st.sampled_from(IDS), st.integers(0, 10**6), st.booleans()))


def mentor(user_id: str, seed: int) -> Person:
    return population.mentor(random.Random(seed), user_id)


def table_of(people: list[Person]) -> MentorTable:
    table = MentorTable({kind: Vocabulary() for kind in KINDS}, capacity=2)
    for person in people:
        table.put(person, 0, 0, True)
    return table


def cells(table: MentorTable, user_id: str) -> dict[str, dict[str, int]]:
    slot = table.slots.slot_of[user_id]
    found: dict[str, dict[str, int]] = {}
    for kind, rows in table.rows.items():
        names = table.vocab[kind].names
        column = rows[: len(names), slot]
        found[kind] = {names[i]: int(column[i]) for i in column.nonzero()[0]}
    return found


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_rows_hold_what_a_table_of_the_current_mentors_holds(
    steps: list[tuple[str, int, bool]],
) -> None:
    table = table_of([])
    current: dict[str, Person] = {}
    for user_id, seed, removed in steps:
        if removed:
            table.remove(user_id)
            current.pop(user_id, None)
        else:
            current[user_id] = mentor(user_id, seed)
            table.put(current[user_id], 0, 0, True)
    fresh = table_of(list(current.values()))
    for user_id in current:
        assert cells(table, user_id) == cells(fresh, user_id)
    freed = set(range(table.slots.high_water)) - set(table.slots.slot_of.values())
    for slot in freed:
        assert not any(rows[:, slot].any() for rows in table.rows.values())
