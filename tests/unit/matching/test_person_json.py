"""A person's stored JSON reads back exactly, whichever version of matching wrote or reads it."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

from hypothesis import given
from hypothesis import strategies as st

from services.matching.domain.people import HOURS_PER_WEEK, Person, person_from_profile
from tests.unit.builders import mentor

PERSON = person_from_profile(mentor("mentor-1"))

WEEKS = st.integers(min_value=0, max_value=(1 << HOURS_PER_WEEK) - 1)


@given(WEEKS)
def test_a_person_reads_back_as_written(week: int) -> None:
    person = replace(PERSON, week=week)
    assert Person.from_json(person.to_json()) == person


@given(WEEKS)
def test_a_week_stored_as_a_json_number_reads_back_exactly(week: int) -> None:
    person = replace(PERSON, week=week)
    written_before = json.dumps(asdict(person), separators=(",", ":"))
    assert Person.from_json(written_before) == person


@given(WEEKS)
def test_readers_before_week_hex_still_read_the_exact_week(week: int) -> None:
    written = json.loads(replace(PERSON, week=week).to_json())  # as such a reader parses it
    assert written["week"] == week
    assert written["week_hex"] == f"{week:x}"
