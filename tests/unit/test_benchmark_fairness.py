"""`python -m benchmarks.fairness` says who is never shown and why, from the engine's state."""

from __future__ import annotations

from dataclasses import replace

from benchmarks.fairness import fairness, never_shown, why_unseen
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine, population
from services.matching.domain.people import goal_from_payload, person_from_profile
from tests.unit.builders import goal, mentee, mentor

# top_k=1, most_named=3: a seeker hosts two mentors
CONFIG = replace(EngineConfig(top_k=1, diversity=0.0, partitions=2), most_named=3)


def test_a_mentor_every_seeker_turns_away_is_listed_with_the_seekers_that_did() -> None:
    engine = TenantEngine(CONFIG)
    for user_id, level in (("best", 5), ("third", 3), ("second", 2)):
        person = mentor(user_id, skills=[{"name": "kubernetes", "level": level}], capacity=1)
        engine.put_mentor_data(person_from_profile(person))
        engine.refresh_mentor(user_id, range(CONFIG.partitions))
    engine.put_mentee(person_from_profile(mentee("ada")), 0)
    engine.put_goal(goal_from_payload(goal("ada", target_skills=["kubernetes"])), 0)
    assert fairness(engine).mentors_never_shown_with_free_seats == 1
    [unseen] = never_shown(engine, population(engine))
    assert unseen.user_id == "second"
    why = why_unseen(engine, unseen)
    assert "turned away by all 1 seekers" in why
    assert (
        "ada's goal g1" in why and "first choice of 3 mentors" in why and "hosts 2 of 2, 2" in why
    )
