"""Every open mentor has a host (ADR 0010): a mentor whose candidates all have K better mentors
is still in one ranking, after that seeker's K: the first seeker of its walk with room, a full
one turning its worst guest away to the next. The engine equals the batch reference. A change
past a mentor's cutoff is told to the other partitions with the next notice handled for the
mentor, not on its own."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.batch import recompute
from services.matching.domain.constraints import EngineConfig, stable_hosts
from services.matching.domain.engine import TenantEngine, population
from services.matching.domain.engine.hosts import Hosts
from services.matching.domain.mentor_lists import Entry
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.domain.seekers import seeker_key
from tests.unit.builders import goal, mentee, mentor

CONFIG = EngineConfig(top_k=1, diversity=0.0, partitions=2)


def _engine(*mentors: tuple[str, int, int], config: EngineConfig = CONFIG) -> TenantEngine:
    """Mentors as (id, kubernetes level, capacity)."""
    engine = TenantEngine(config)
    for user_id, level, capacity in mentors:
        person = mentor(user_id, skills=[{"name": "kubernetes", "level": level}], capacity=capacity)
        engine.put_mentor_data(person_from_profile(person))
        engine.refresh_mentor(user_id, range(CONFIG.partitions))
    return engine


def _seeker(engine: TenantEngine, mentee_id: str, partition: int, skills: list[str]) -> str:
    engine.put_mentee(person_from_profile(mentee(mentee_id)), partition)
    return engine.put_goal(goal_from_payload(goal(mentee_id, target_skills=skills)), partition)


def _rankings(engine: TenantEngine) -> dict[str, tuple[str, ...]]:
    engine.check_invariants()
    ids = engine.ranking_ids()
    assert ids == recompute(population(engine), engine.config)
    return ids


def test_a_mentor_every_candidate_ranks_below_k_is_seen_by_its_first_choice() -> None:
    engine = _engine(("best", 5, 1), ("second", 2, 1))
    # ada's goal names only kubernetes, so "second" scores best with her: she is its first choice
    ada = _seeker(engine, "ada", 0, ["kubernetes"])
    bob = _seeker(engine, "bob", 1, ["kubernetes", "go"])
    ranked = _rankings(engine)
    assert ranked[ada] == ("best", "second")  # her K, then the mentor nobody else would see
    assert ranked[bob] == ("best",)
    # once "best" is full, "second" is in ada's top K on its own: named once, not twice
    engine.set_accepted("best", 1)
    engine.refresh_mentor("best", range(CONFIG.partitions))
    ranked = _rankings(engine)
    assert ranked[ada] == ("second",)
    assert ranked[bob] == ("second",)


def test_a_ranking_names_no_more_mentors_than_a_proposal_carries() -> None:
    engine = _engine(("best", 5, 1), ("second", 2, 1), config=replace(CONFIG, most_named=1))
    ada = _seeker(engine, "ada", 0, ["kubernetes"])
    assert _rankings(engine)[ada] == ("best",)


def test_a_first_choice_in_a_partition_owned_elsewhere_is_not_taken_here() -> None:
    engine = _engine(("best", 5, 1), ("second", 2, 1))
    ada = _seeker(engine, "ada", 0, ["kubernetes"])
    # the stored list of partition 1 (owned elsewhere) holds a seeker "second" fits better
    engine.set_lists_elsewhere("second", {1: [(seeker_key("zoe", "g1"), 0.99)]})
    assert _rankings(engine)[ada] == ("best",)
    engine.set_lists_elsewhere("second", {})
    assert _rankings(engine)[ada] == ("best", "second")


def test_a_change_past_the_cutoff_is_told_with_the_next_notice_handled() -> None:
    engine = _engine(("only", 5, 1))  # a budget of 3
    for name in ("ada", "bob", "cy"):
        _seeker(engine, name, 0, ["kubernetes"])
    engine.drain()
    # dan enters the best of partition 1, but past the cutoff: nobody acts on it yet
    _seeker(engine, "dan", 1, ["kubernetes", "go"])
    assert engine.drain().exposure == set()
    engine.set_lists_elsewhere("only", {})  # a notice for the mentor, handled here
    assert engine.drain().exposure == {"only"}
    # eve enters within the cutoff: told at once
    _seeker(engine, "eve", 1, ["kubernetes"])
    assert engine.drain().exposure == {"only"}
    _rankings(engine)


# A guest is one of the seeker's candidates: the same hard constraints and exclusions hold for
# it (a mentor a seeker may not be proposed is never in its lists, so never its host), and an
# erased seeker or mentor is nobody's host. With top_k=1, "second" reaches
# ada's ranking only as a guest, so each rule below is seen on the guest itself.


def test_a_declined_mentor_is_no_guest_and_chooses_the_next_seeker() -> None:
    engine = _engine(("best", 5, 1), ("second", 2, 1))
    ada = _seeker(engine, "ada", 0, ["kubernetes"])
    bob = _seeker(engine, "bob", 1, ["kubernetes", "go"])
    assert _rankings(engine)[ada] == ("best", "second")
    engine.exclude("ada", "second", 0)  # "Not for me"
    ranked = _rankings(engine)
    assert ranked[ada] == ("best",)
    assert ranked[bob] == ("best", "second")  # its first choice now


def test_an_erased_seeker_is_no_first_choice_and_an_erased_mentor_no_guest() -> None:
    engine = _engine(("best", 5, 1), ("second", 2, 1))
    _seeker(engine, "ada", 0, ["kubernetes"])
    bob = _seeker(engine, "bob", 1, ["kubernetes", "go"])
    engine.forget("ada")
    assert _rankings(engine)[bob] == ("best", "second")
    engine.forget("second")
    engine.refresh_mentor("second", range(CONFIG.partitions))
    assert _rankings(engine)[bob] == ("best",)


def test_no_guest_in_ones_reporting_line_or_short_of_a_must() -> None:
    engine = _engine(("best", 5, 1), ("second", 2, 1))
    engine.put_mentee(person_from_profile(mentee("ada", manager_id="second")), 0)
    ada = engine.put_goal(goal_from_payload(goal("ada", target_skills=["kubernetes"])), 0)
    assert _rankings(engine)[ada] == ("best",)
    engine.put_mentee(person_from_profile(mentee("ada", version=2)), 0)
    assert _rankings(engine)[ada] == ("best", "second")
    must = goal("ada", version=2, target_skills=["kubernetes"], musts={"languages": ["de"]})
    engine.put_goal(goal_from_payload(must), 0)
    assert _rankings(engine)[ada] == ()


# With most_named=3 and top_k=1 a seeker hosts two mentors: ada (a goal on kubernetes alone) is
# the first choice of every mentor below, bob (kubernetes and go) the second. A host's place is
# taken whether or not its K name the mentor too (which the other partitions cannot know), so
# ada hosts "best", her K, and one more.
HOSTING_TWO = replace(CONFIG, most_named=3)


def test_a_mentor_a_full_first_choice_turns_away_is_hosted_by_its_next_seeker() -> None:
    engine = _engine(("best", 5, 1), ("third", 3, 1), ("second", 2, 1), config=HOSTING_TWO)
    ada = _seeker(engine, "ada", 0, ["kubernetes"])
    bob = _seeker(engine, "bob", 1, ["kubernetes", "go"])
    ranked = _rankings(engine)
    assert ranked[ada] == ("best", "third")  # she scores "third" better: it keeps her place
    assert ranked[bob] == ("best", "second")  # turned away by ada, seen by its next seeker
    # "third" fills its seat: ada's place is free again, and "second" takes it
    engine.set_accepted("third", 1)
    engine.refresh_mentor("third", range(CONFIG.partitions))
    ranked = _rankings(engine)
    assert ranked[ada] == ("best", "second")
    assert ranked[bob] == ("best",)


def test_a_mentor_every_seeker_turns_away_is_in_no_ranking() -> None:
    engine = _engine(("best", 5, 1), ("third", 3, 1), ("second", 2, 1), config=HOSTING_TWO)
    ada = _seeker(engine, "ada", 0, ["kubernetes"])
    assert _rankings(engine)[ada] == ("best", "third")  # "second" has no seeker with room
    assert "second" not in engine.rankings.hosts.host
    bob = _seeker(engine, "bob", 1, ["kubernetes", "go"])
    assert _rankings(engine)[bob] == ("best", "second")  # a seeker with room came


def test_a_better_guest_turns_the_worst_away_down_a_chain() -> None:
    # "a" and "b" both prefer x, then y; x holds one, y holds one: "b" goes on to y, and
    # when a mentor x scores better than both comes, "a" goes on to y and "b" to z
    walks = {"a": (1, [(-0.9, 10), (-0.5, 20), (-0.1, 30)]), "b": (2, [(-0.8, 10), (-0.4, 20)])}
    assert stable_hosts(walks, 1) == {"a": (-0.9, 10), "b": (-0.4, 20)}
    walks["c"] = (3, [(-0.95, 10)])
    walks["b"] = (2, [(-0.8, 10), (-0.4, 20), (-0.05, 30)])
    assert stable_hosts(walks, 1) == {"c": (-0.95, 10), "a": (-0.5, 20), "b": (-0.05, 30)}
    assert stable_hosts(walks, 2) == {"c": (-0.95, 10), "a": (-0.9, 10), "b": (-0.4, 20)}
    assert stable_hosts(walks, 0) == {}


def test_hosts_follow_a_host_held_in_a_partition_owned_elsewhere() -> None:
    engine = _engine(("best", 5, 1), ("third", 3, 1), ("second", 2, 1), config=HOSTING_TWO)
    ada = _seeker(engine, "ada", 0, ["kubernetes"])
    bob = _seeker(engine, "bob", 0, ["kubernetes", "go"])
    # partition 1 (owned elsewhere) holds zoe, whom "third" fits better than ada: its host is
    # there, so ada hosts "second", and bob nobody
    engine.set_lists_elsewhere("third", {1: [(seeker_key("zoe", "g1"), 0.99)]})
    ranked = _rankings(engine)
    assert ranked[ada] == ("best", "second")
    assert ranked[bob] == ("best",)
    engine.set_lists_elsewhere("third", {})
    ranked = _rankings(engine)
    assert (ranked[ada], ranked[bob]) == (("best", "third"), ("best", "second"))


# The incremental hosts against stable_hosts, over walks changed at random: a few mentors and
# seekers, scores drawn from few values (ties), seekers 3 and 4 held elsewhere (slot -1). A
# mentor's walk is its best BUDGET entries. A step replaces a mentor's entries (the lists tell
# "anything may have changed"), or moves one entry, as the lists tell it: leaving, then
# entering, pushing the walk's last out when the walk was full.
MENTORS = [f"m{i}" for i in range(7)]
BUDGET = 3
scores = st.sampled_from([0.2, 0.5, 0.7, 0.9])
walk_draws = st.dictionaries(st.integers(0, 5), scores, max_size=5)
steps_drawn = st.lists(
    st.tuples(
        st.sampled_from(MENTORS), walk_draws | st.tuples(st.integers(0, 5), st.none() | scores)
    ),
    max_size=40,
)


def _entry(seeker: int, score: float) -> Entry:
    return (-score, 100 + seeker, seeker if seeker < 3 else -1)


@settings(max_examples=300, deadline=None)
@given(
    places=st.integers(1, 3), start=st.lists(walk_draws, min_size=7, max_size=7), steps=steps_drawn
)
def test_hosts_kept_incrementally_are_the_stable_ones(
    places: int, start: list[dict[int, float]], steps: list[tuple[str, object]]
) -> None:
    entries: dict[str, list[Entry]] = {}
    hosts = Hosts(places, lambda slot: None)
    hosts.walk = lambda mentor_id, count: sorted(entries.get(mentor_id, []))[: min(count, BUDGET)]

    def check() -> None:
        hosts.settle()
        walks = {m: (hosts._order(m), [e[:2] for e in hosts.walk(m, BUDGET)]) for m in entries}
        expected = stable_hosts({m: w for m, w in walks.items() if w[1]}, places)
        assert {m: e[:2] for m, e in hosts.host.items()} == expected
        by_slot: dict[int, set[str]] = {}
        for mentor_id, entry in hosts.host.items():
            if entry[2] >= 0:
                by_slot.setdefault(entry[2], set()).add(mentor_id)
        assert dict(hosts.guests) == by_slot

    for mentor_id, first in zip(MENTORS, start, strict=True):
        entries[mentor_id] = [_entry(seeker, score) for seeker, score in first.items()]
        hosts.touch(mentor_id)
    check()
    for mentor_id, change in steps:
        if isinstance(change, dict):
            entries[mentor_id] = [_entry(seeker, score) for seeker, score in change.items()]
            hosts.touch(mentor_id)
        else:
            seeker, score = change
            mine = entries.setdefault(mentor_id, [])
            for left in [e for e in mine if e[1] == 100 + seeker]:
                shown = left in hosts.walk(mentor_id, BUDGET)
                mine.remove(left)
                if shown:
                    hosts.touch(mentor_id, left)
            if score is not None:
                entry, walk = _entry(seeker, score), hosts.walk(mentor_id, BUDGET)
                mine.append(entry)
                if len(walk) < BUDGET:  # every entry shown: the lists tell it whole
                    hosts.touch(mentor_id)
                elif entry < walk[-1]:
                    hosts.touch(mentor_id, entry, walk[-1][:2])
        check()
