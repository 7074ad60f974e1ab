"""Diversity across a mentee's goals (domain/goal_spread.py): one mentor is not proposed for
every goal of the same mentee unless clearly best; the rule, and the engine applying it."""

from __future__ import annotations

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.goal_spread import CLEAR_MARGIN, GoalPicks, spread
from tests.unit.builders import TENANT, mentee, mentor
from tests.unit.matching.cluster import sk
from tests.unit.matching.test_handlers import goal_set, profile, run


def picks(ranking: list[tuple[str, float]], extra: list[tuple[str, float]]) -> GoalPicks:
    return GoalPicks(ranking, ranking + extra)


def test_a_mentor_ranked_for_two_goals_stays_at_home_and_an_alternative_takes_the_other() -> None:
    shown = spread(
        {
            "career": picks([("m", 0.9), ("a", 0.6)], [("b", 0.5)]),
            "project": picks([("m", 0.7), ("c", 0.65)], [("d", 0.64)]),
        }
    )
    assert shown["career"] == [("m", 0.9), ("a", 0.6)]  # home: m scores highest here
    assert shown["project"] == [("d", 0.64), ("c", 0.65)]  # m's slot, to the best alternative


def test_a_clearly_best_mentor_is_proposed_for_both_goals() -> None:
    clear = 0.64 + CLEAR_MARGIN
    shown = spread(
        {
            "career": picks([("m", 0.9)], []),
            "project": picks([("m", clear)], [("d", 0.64)]),
        }
    )
    assert shown == {"career": [("m", 0.9)], "project": [("m", clear)]}


def test_with_no_alternative_the_mentor_stays_and_one_alternative_fills_one_slot() -> None:
    shown = spread(
        {
            "a": picks([("m", 0.5), ("n", 0.5)], []),
            "b": picks([("m", 0.5), ("n", 0.5)], [("x", 0.45)]),
            "c": picks([("m", 0.5)], [("x", 0.45)]),
        }
    )
    assert shown["a"] == [("m", 0.5), ("n", 0.5)]  # ties: the goal whose id sorts first
    assert shown["b"] == [("x", 0.45), ("n", 0.5)]  # x fills m's slot; none left for n
    assert shown["c"] == [("m", 0.5)]  # x is taken already


def test_one_goal_alone_is_its_ranking() -> None:
    alone = picks([("m", 0.5)], [("x", 0.45)])
    assert spread({"only": alone}) == {"only": [("m", 0.5)]}


def test_the_engine_proposes_the_spread_and_the_rankings_stay_as_scored() -> None:
    """`star` is the best for both goals but only clearly so for neither: the project goal's
    proposal takes `go_expert` in its place, and the ranking itself still names `star`."""
    both = [{"name": "kubernetes", "level": 5}, {"name": "go", "level": 5}]
    cluster = run(
        profile(mentor("star", skills=both)),
        profile(mentor("go_expert", skills=[{"name": "go", "level": 4}], years_experience=26)),
        profile(mentee("x1")),
        goal_set("x1", 1, goal_id="career", target_skills=["kubernetes"]),
        goal_set("x1", 2, goal_id="project", target_skills=["go"]),
        # one mentor a ranking: no seeker hosts a mentor beyond its K (ADR 0010)
        config=EngineConfig(top_k=1, partitions=2, exposure_per_seat=10.0, most_named=1),
    )
    assert cluster.rankings(TENANT)[sk("x1", "project")] == ("star",)
    assert cluster.stored_proposals(TENANT) == {
        sk("x1", "career"): {"star"},
        sk("x1", "project"): {"go_expert"},
    }
    assert cluster.batch_proposals(TENANT) == {
        sk("x1", "career"): ("star",),
        sk("x1", "project"): ("go_expert",),
    }
    last = cluster.proposals[-1].payload
    assert (last.goal_id, [m.mentor_id for m in last.mentors]) == ("project", ["go_expert"])
