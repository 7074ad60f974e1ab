"""A person's stored JSON reads back exactly, whichever version of matching wrote or reads it."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

from hypothesis import given
from hypothesis import strategies as st

from services.matching.adapters.stored_people import person_from_json, person_to_json
from services.matching.domain.people import HOURS_PER_WEEK, person_from_profile
from tests.unit.builders import mentor

PERSON = person_from_profile(mentor("mentor-1"))

WEEKS = st.integers(min_value=0, max_value=(1 << HOURS_PER_WEEK) - 1)


@given(WEEKS)
def test_a_person_reads_back_as_written(week: int) -> None:
    person = replace(PERSON, week=week)
    assert person_from_json(person_to_json(person)) == person


@given(WEEKS)
def test_a_week_stored_as_a_json_number_reads_back_exactly(week: int) -> None:
    person = replace(PERSON, week=week)
    written_before = json.dumps(asdict(person), separators=(",", ":"))
    assert person_from_json(written_before) == person


@given(WEEKS)
def test_readers_before_week_hex_still_read_the_exact_week(week: int) -> None:
    written = json.loads(person_to_json(replace(PERSON, week=week)))  # as such a reader parses it
    assert written["week"] == week
    assert written["week_hex"] == f"{week:x}"
