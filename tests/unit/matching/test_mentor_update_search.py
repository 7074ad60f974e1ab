"""A mentor's change reaches each partition as a copy of its own, each in a poll of its own
(ADR 0008): the first copy searches the mentor's candidates once for every partition, the
later ones find their lists already searched, unless the mentor's inputs changed in between
(engine/searched.py). Either way the rankings are a batch recompute's."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from services.matching.domain.batch import recompute
from services.matching.domain.engine import TenantEngine, population, searched
from services.matching.domain.people import Person
from tests.unit.matching.built_engines import built_engine

SEED = 20261207


@pytest.fixture
def engine() -> TenantEngine:
    return built_engine(SEED, 40, 600)


def count_searches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the engine searches a mentor's lists from now on (one search: its
    candidates read once, or twice when a partition's first share proves too small)."""
    calls = [0]
    search: Callable[..., Any] = searched.best_lists

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return search(*args, **kwargs)

    monkeypatch.setattr(searched, "best_lists", counted)
    return calls


def copy(
    engine: TenantEngine, mentor: Person, partition: int, excluded: tuple[str, ...] = ()
) -> None:
    """One partition's copy of the mentor's change, as mentor_feed.refresh_mentor applies it."""
    engine.set_accepted(mentor.user_id, engine.roster.accepted.get(mentor.user_id, 0))
    engine.put_mentor_data(mentor)
    engine.reset_exclusions(mentor.user_id, partition, excluded)
    engine.refresh_mentor(mentor.user_id, [partition])
    engine.drain()


def changed(engine: TenantEngine, mentor_id: str, **fields: Any) -> Person:
    old = engine.mentor(mentor_id)
    assert old is not None
    return dataclasses.replace(old, version=old.version + 1, capacity=6, **fields)


def busiest_mentor(engine: TenantEngine) -> str:
    """A mentor with lists in several partitions."""
    counts: dict[str, int] = {}
    for (mentor_id, _), _ in engine.lists.items():
        counts[mentor_id] = counts.get(mentor_id, 0) + 1
    return max(sorted(counts), key=lambda m: counts[m])


def assert_as_a_batch(engine: TenantEngine) -> None:
    engine.check_invariants()
    assert engine.ranking_ids() == recompute(population(engine), engine.config)


def test_one_search_serves_every_partitions_copy(
    engine: TenantEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    mentor_id = busiest_mentor(engine)
    skills = {skill: 5 for skill in engine.mentor(mentor_id).skills}  # type: ignore[union-attr]
    mentor = changed(engine, mentor_id, skills=skills, years=30)
    searches = count_searches(monkeypatch)
    for partition in range(engine.config.partitions):
        copy(engine, mentor, partition)
    assert searches[0] == 1
    assert engine.searched.pending() == 0
    assert_as_a_batch(engine)


def test_a_change_between_two_copies_is_searched_again(
    engine: TenantEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    mentor_id = busiest_mentor(engine)
    mentor = changed(engine, mentor_id, years=engine.mentor(mentor_id).years + 7)  # type: ignore[union-attr]
    searches = count_searches(monkeypatch)
    copy(engine, mentor, 0)
    # Before partition 1's copy: the store now says one of its mentees declined the mentor.
    listed = engine.lists.get((mentor_id, 1))
    assert listed is not None and listed.entries
    declined = engine.search.mentee_id(listed.entries[0][2])
    copy(engine, mentor, 1, (declined,))
    assert searches[0] == 2
    searched = engine.lists.get((mentor_id, 1))
    assert searched is not None
    assert declined not in {engine.search.mentee_id(e[2]) for e in searched.entries}
    # Seats taken change before partition 2's copy: searched again too.
    engine.set_accepted(mentor_id, engine.roster.accepted.get(mentor_id, 0) + 1)
    copy(engine, mentor, 2)
    assert searches[0] == 3
    for partition in range(3, engine.config.partitions):
        copy(engine, mentor, partition)
    assert searches[0] == 3
    assert_as_a_batch(engine)


def test_a_list_made_again_since_the_search_is_searched_again(
    engine: TenantEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    mentor_id = busiest_mentor(engine)
    mentor = changed(engine, mentor_id, years=engine.mentor(mentor_id).years + 3)
    searches = count_searches(monkeypatch)
    copy(engine, mentor, 0)
    restored = engine.lists.get((mentor_id, 1))
    assert restored is not None
    again = dataclasses.replace(restored, entries=list(restored.entries))
    engine.lists.replace((mentor_id, 1), again)  # a new list, as a restore puts one
    copy(engine, mentor, 1)
    assert searches[0] == 2
    assert_as_a_batch(engine)
