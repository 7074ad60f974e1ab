"""A mentor's search keeps per partition only an even share of its budget at first, and searches
again the partitions whose share proves larger (engine/searched.py, best_lists): the lists,
cutoffs, hosts and rankings it leaves are exactly those of one search keeping the whole budget
in every partition. Fuzzed over mentor changes, with the first share as small as it can be
(most searches then need a second one) and as the engine sets it; and the check that calls
for the second search is shown to matter: without it, the lists come out different."""

from __future__ import annotations

import dataclasses
import random

import pytest

from services.matching.domain.engine import TenantEngine, searched
from services.matching.domain.engine.lists import MentorLists, keep_within_cutoff
from services.matching.domain.mentor_lists import MentorList
from tests.support import population as people
from tests.unit.matching.built_engines import built_engine

SEED = 20261207
WHOLE = 1e6  # a spread past any budget: the first search keeps the whole budget everywhere


def built(seed: int) -> TenantEngine:
    return built_engine(seed, 40, 500)


def update(engine: TenantEngine, rng: random.Random, mentor_id: str) -> None:
    """A changed profile (skills and seats drawn afresh), one copy per partition."""
    old = engine.mentor(mentor_id)
    assert old is not None
    mentor = dataclasses.replace(people.mentor(rng, mentor_id), version=old.version + 1)
    for partition in range(engine.config.partitions):
        engine.set_accepted(mentor_id, engine.roster.accepted.get(mentor_id, 0))
        engine.put_mentor_data(mentor)
        engine.reset_exclusions(mentor_id, partition, ())
        engine.refresh_mentor(mentor_id, [partition])
        engine.drain()


def state(engine: TenantEngine) -> tuple[object, ...]:
    lists: MentorLists = engine.lists
    by_key = {
        key: (tuple(m.entries), m.truncated, m.shown_count) for key, m in sorted(lists.items())
    }
    cutoffs = {mentor_id: record.cutoff for mentor_id, record in lists.records.items()}
    return by_key, cutoffs, dict(engine.rankings.hosts.host), engine.ranking_ids()


def run(slack: float, seed: int, updates: int, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The state after each of the same mentor changes, with this first share's slack."""
    monkeypatch.setattr(searched, "SHARE_SPREAD", slack)
    engine, rng = built(seed), random.Random(seed + 1)
    seen = []
    for _ in range(updates):
        update(engine, rng, f"mentor-{rng.randrange(40):03d}")
        seen.append(state(engine))
    engine.check_invariants()
    return seen


def searches_again(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the partitions searched a second time."""
    lacking = searched.lacking
    again = [0]

    def counted(*args: object) -> list[int]:
        found = lacking(*args)  # type: ignore[arg-type]
        again[0] += len(found)
        return found

    monkeypatch.setattr(searched, "lacking", counted)
    return again


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("slack", [-100.0, 0.0, searched.SHARE_SPREAD])
def test_a_first_share_and_its_second_search_keep_what_the_whole_budget_keeps(
    seed: int, slack: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = run(WHOLE, seed, 25, monkeypatch)
    again = searches_again(monkeypatch)
    assert run(slack, seed, 25, monkeypatch) == expected
    if slack < 0:  # the first share at its least: many partitions prove larger
        assert again[0] > 0


def kept_lists(engine: TenantEngine) -> dict[tuple[str, int], tuple[object, ...]]:
    """What each mentor's search would leave in its lists (searched, then cut to what they
    keep), every mentor searched in every partition, nothing changed."""
    kept = {}
    partitions = list(range(engine.config.partitions))
    for mentor_id in sorted(engine.search.mentors.slots.slot_of):
        mentor = engine.mentor(mentor_id)
        budget = engine.budget(mentor_id)
        if mentor is None or budget <= 0:
            continue
        found = searched.best_lists(engine, mentor, partitions, ())
        fresh = {p: MentorList(budget) for p in found}
        for p, mentor_list in fresh.items():
            mentor_list.entries, mentor_list.truncated = found[p].listed()
        keep_within_cutoff(engine.lists, mentor_id, fresh)
        kept |= {(mentor_id, p): (tuple(m.entries), m.truncated) for p, m in fresh.items()}
    return kept


def test_without_the_second_search_the_lists_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the fuzz above catches: a first share kept too small and never searched again
    leaves lists other than the whole budget's (here, each mentor's search once)."""
    engine = built(3)
    monkeypatch.setattr(searched, "SHARE_SPREAD", WHOLE)
    expected = kept_lists(engine)
    monkeypatch.setattr(searched, "SHARE_SPREAD", -100)
    assert kept_lists(engine) == expected
    monkeypatch.setattr(searched, "lacking", lambda *args: [])
    assert kept_lists(engine) != expected
