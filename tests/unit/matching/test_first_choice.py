"""Every open mentor is seen by its first choice (ADR 0010): a mentor whose candidates all have
K better mentors is still in one ranking, after that seeker's K, and the engine equals the
batch reference. A change past a mentor's cutoff is told to the other partitions with the next
notice handled for the mentor, not on its own."""

from __future__ import annotations

from dataclasses import replace

from services.matching.domain.batch import recompute
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine, population
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
# it (a mentor a seeker may not be proposed is never in its lists, so never its first choice),
# and an erased seeker or mentor is nobody's first choice. With top_k=1, "second" reaches
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
