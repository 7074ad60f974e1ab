"""People and goals read back from the store share one object per distinct value."""

from __future__ import annotations

from dataclasses import replace

from services.matching.adapters.stored_people import (
    goal_from_json,
    goal_to_json,
    person_from_json,
    person_to_json,
)
from services.matching.domain.people import Goal, Person

PERSON = Person(
    user_id="mentee-1",
    version=1,
    is_mentor=False,
    is_mentee=True,
    display_name="Ada",
    headline=None,
    skills={"python": 2},
    years=3,
    industries=("fintech", "health"),
    functions=("engineering",),
    background={"education": "bootcamp"},
    languages=("en",),
    styles=(),
    capacity=0,
    opted_in=True,
    manager_id=None,
)


def goal(mentee_id: str, weights: tuple[float, ...]) -> Goal:
    return Goal(mentee_id, 1, f"{mentee_id}-g1", ("python",), (), (), "similar", (), weights)


def test_equal_weights_come_back_as_one_tuple() -> None:
    weights = (1.0, 0.5, 0.3, 0.3, 0.3, 0.4, 0.5, 0.25)
    first = goal_from_json(goal_to_json(goal("a", weights)))
    second = goal_from_json(goal_to_json(goal("b", weights)))
    assert first.weights == weights
    assert first.weights is second.weights


def test_different_weights_stay_different() -> None:
    first = goal_from_json(goal_to_json(goal("a", (1.0,) * 8)))
    second = goal_from_json(goal_to_json(goal("b", (0.5,) * 8)))
    assert first.weights == (1.0,) * 8 and second.weights == (0.5,) * 8


def test_people_share_their_names_and_background() -> None:
    first = person_from_json(person_to_json(PERSON))
    second = person_from_json(person_to_json(replace(PERSON, user_id="other")))
    assert first == PERSON
    assert first.industries is second.industries
    assert first.background is second.background


def test_goal_skills_are_interned_names_in_the_goals_order() -> None:
    restored = goal_from_json(goal_to_json(goal("a", (1.0,) * 8)))
    assert restored.skills == ("python",)


def test_goals_read_back_share_their_goal_id() -> None:
    weights = (1.0,) * 8
    first = goal_from_json(goal_to_json(replace(goal("a", weights), goal_id="default")))
    second = goal_from_json(goal_to_json(replace(goal("b", weights), goal_id="default")))
    assert first.goal_id == "default"
    assert first.goal_id is second.goal_id
