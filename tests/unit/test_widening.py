"""Which skills "Widen my criteria" adds to a goal (services/profile/domain/widening.py)."""

from __future__ import annotations

from typing import Any

from services.profile.domain.widening import skills_to_add, widened
from shared.contracts.goals import GoalFields
from tests.unit.builders import goal_fields, mentor


def holding(user_id: str, *skills: str, **fields: Any) -> Any:
    return mentor(user_id, skills=[{"name": s, "level": 3} for s in skills], **fields)


def test_the_skills_most_often_held_with_the_goals_skills_come_first_ties_by_name() -> None:
    goal = GoalFields.model_validate(goal_fields(target_skills=["kubernetes"]))
    mentors = [
        holding("m1", "kubernetes", "go", "terraform"),
        holding("m2", "kubernetes", "go", "rust", "helm"),
        holding("m2", "kubernetes", "go", "rust", "helm"),  # read twice: counted once
        holding("m3", "python", "django", "sql", "ansible"),  # no goal skill: not counted
        holding("m4", "kubernetes", "java", opted_in=False),  # opted out: not counted
        holding("x1", "kubernetes", "zig"),  # the mentee themself
    ]
    assert skills_to_add(goal, "x1", mentors) == ["go", "helm", "rust"]
    assert widened(goal, ["go"]).target_skills == ["kubernetes", "go"]


def test_never_past_twenty_skills_and_nothing_when_nobody_shares_the_goal() -> None:
    nineteen = [f"s{n:02d}" for n in range(19)]
    goal = GoalFields.model_validate(goal_fields(target_skills=nineteen))
    assert skills_to_add(goal, "x1", [holding("m1", "s00", "b", "a")]) == ["a"]
    assert skills_to_add(goal, "x1", [holding("m1", "other", "a")]) == []
