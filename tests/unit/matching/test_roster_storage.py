"""The roster keeps its per-mentee entries small: a mentee holding only the goal `default`
has no container of its own, and the seekers it reports are those of the goals it holds."""

from __future__ import annotations

from services.matching.domain.engine.roster import Roster
from services.matching.domain.people import Goal
from services.matching.domain.seekers import seeker_key


def goal(mentee_id: str, goal_id: str) -> Goal:
    return Goal(mentee_id, 1, goal_id, ("python",), (), (), "similar", ())


def test_a_mentee_with_the_default_goal_only_holds_no_container() -> None:
    roster = Roster()
    for index in range(3):
        roster.put_goal(goal(f"m{index}", "default"))
    assert roster.seekers_of("m1") == ["m1"]
    assert roster.others == {}
    roster.check_invariants()


def test_seekers_follow_goals_put_and_dropped() -> None:
    roster = Roster()
    keys = {g: roster.put_goal(goal("m", g)) for g in ("role", "default", "project")}
    roster.put_goal(goal("m", "role"))  # a newer version of a goal held
    assert roster.seekers_of("m") == sorted(keys.values())
    assert roster.goal_ids("m") == ["default", "project", "role"]
    assert roster.drop_goal(keys["role"]) and not roster.drop_goal(keys["role"])
    assert roster.seekers_of("m") == sorted([keys["default"], keys["project"]])
    assert roster.drop_goal(keys["default"])
    assert roster.seekers_of("m") == [seeker_key("m", "project")]
    roster.check_invariants()
    assert roster.drop_goal(keys["project"])
    assert roster.seekers_of("m") == [] and roster.others == {}
    roster.check_invariants()
