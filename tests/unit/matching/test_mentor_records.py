"""One record per mentor holds its lists and cutoff (engine/records.py): a list operation
reaches all of them with one look-up, and the engine keeps no table keyed by (mentor,
partition) beside the records (at full scale that was 300,000 key tuples, and six look-ups
of them per cutoff step). An insert that enters a partition's best and trims the list tells
the other partitions once (Notices.changed), not once for each."""

from __future__ import annotations

import random

from services.matching.domain.engine.lists import MentorLists
from services.matching.domain.engine.records import MentorRecord
from tests.support import population as people
from tests.unit.matching.built_engines import built_engine, partition_of


def test_each_list_and_cutoff_is_in_its_mentors_record() -> None:
    engine = built_engine(seed=21, mentors=30, mentees=90)
    lists = engine.lists
    listed = dict(lists.items())
    assert listed
    for (mentor_id, partition), mentor_list in listed.items():
        record = lists.records[mentor_id]
        assert isinstance(record, MentorRecord) and len(record) == lists.partitions
        assert record[partition] is mentor_list is lists.get((mentor_id, partition))
    held = {(m, p) for m, record in lists.records.items() for p, x in enumerate(record) if x}
    assert held == set(listed)
    tables = [v for v in vars(lists).values() if isinstance(v, dict) and v]
    assert not [
        t for t in tables if isinstance(next(iter(t)), tuple)
    ]  # none by (mentor, partition)


def test_an_insert_tells_the_other_partitions_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine = built_engine(seed=22, mentors=20, mentees=80)
    told: list[str] = []
    inserts: list[int] = []
    changed, insert = engine.lists.notices.changed, MentorLists.insert

    def counted_changed(mentor_id: str, within: bool) -> None:
        told.append(mentor_id)
        changed(mentor_id, within)

    def counted_insert(self: MentorLists, *args) -> None:  # type: ignore[no-untyped-def]
        start = len(told)
        insert(self, *args)
        inserts.append(len(told) - start)

    monkeypatch.setattr(engine.lists.notices, "changed", counted_changed)
    monkeypatch.setattr(MentorLists, "insert", counted_insert)
    rng = random.Random(22)
    for index in range(80):
        mentee_id = f"mentee-{index:04d}"
        goal = people.goal(rng, mentee_id)
        engine.put_goal(goal, partition_of(mentee_id, engine.config.partitions))
    engine.drain()
    assert inserts and max(inserts) == 1, sorted(inserts)[-5:]
    engine.check_invariants()
