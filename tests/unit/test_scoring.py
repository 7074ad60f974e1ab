"""Matching's first scoring function: hard constraints, score, order and explanation."""

from __future__ import annotations

import pytest

from services.matching.domain.scoring import eligible, rank_mentors, score_mentor
from tests.unit.builders import goal, mentee, mentor

ADA = mentee("u-ada")


def test_a_mentor_with_capacity_who_opted_in_is_eligible() -> None:
    assert eligible(ADA, mentor("u-grace"))


@pytest.mark.parametrize(
    ("the_mentee", "the_mentor"),
    [
        (mentee("u-1", roles=["mentee", "mentor"]), mentor("u-1", roles=["mentor", "mentee"])),
        (ADA, mentor("u-grace", opted_in=False)),
        (ADA, mentor("u-grace", capacity=0)),
        (mentee("u-ada", manager_id="u-grace"), mentor("u-grace")),
        (ADA, mentor("u-grace", manager_id="u-ada")),
        (ADA, mentee("u-bob", skills=[{"name": "kubernetes", "level": 5}], capacity=3)),
    ],
    ids=[
        "self",
        "opted-out",
        "no-capacity",
        "mentee-reports-to-mentor",
        "mentor-reports-to-mentee",
        "not-a-mentor",
    ],
)
def test_ineligible_mentors(the_mentee, the_mentor) -> None:
    assert not eligible(the_mentee, the_mentor)
    assert rank_mentors(goal(the_mentee.user_id), the_mentee, [the_mentor], k=5) == []


def test_score_is_mean_level_over_goal_skills() -> None:
    the_goal = goal("u-ada", target_skills=["kubernetes", "go"])
    scored = score_mentor(the_goal, mentor("u-g", skills=[{"name": "kubernetes", "level": 4}]))
    assert scored is not None
    assert scored.score == pytest.approx(4 / 5 / 2)


def test_a_mentor_without_any_goal_skill_is_not_scored() -> None:
    assert score_mentor(goal("u-ada"), mentor("u-g", skills=[{"name": "go", "level": 5}])) is None
    assert rank_mentors(goal("u-ada"), ADA, [mentor("u-g", skills=[])], k=5) == []


def test_ranked_by_score_then_mentor_id() -> None:
    mentors = [
        mentor("u-c", skills=[{"name": "kubernetes", "level": 3}]),
        mentor("u-b", skills=[{"name": "kubernetes", "level": 5}]),
        mentor("u-a", skills=[{"name": "kubernetes", "level": 3}]),
        mentor("u-d", skills=[{"name": "kubernetes", "level": 5}]),
    ]
    ranked = rank_mentors(goal("u-ada"), ADA, mentors, k=10)
    assert [s.mentor.user_id for s in ranked] == ["u-b", "u-d", "u-a", "u-c"]
    assert [s.score for s in ranked] == [1.0, 1.0, 0.6, 0.6]


def test_only_the_top_k_are_kept() -> None:
    mentors = [
        mentor(f"u-{level}", skills=[{"name": "kubernetes", "level": level}])
        for level in range(1, 6)
    ]
    ranked = rank_mentors(goal("u-ada"), ADA, mentors, k=2)
    assert [s.mentor.user_id for s in ranked] == ["u-5", "u-4"]
    assert rank_mentors(goal("u-ada"), ADA, mentors, k=0) == []


def test_order_does_not_depend_on_input_order() -> None:
    mentors = [
        mentor(f"u-{i}", skills=[{"name": "kubernetes", "level": 1 + i % 3}]) for i in range(9)
    ]
    forward = rank_mentors(goal("u-ada"), ADA, mentors, k=4)
    backward = rank_mentors(goal("u-ada"), ADA, list(reversed(mentors)), k=4)
    assert [s.mentor.user_id for s in forward] == [s.mentor.user_id for s in backward]


@pytest.mark.parametrize(
    ("level", "word"),
    [(1, "beginner"), (2, "familiar"), (3, "practitioner"), (4, "senior"), (5, "expert")],
)
def test_reason_names_the_level_and_the_skill(level: int, word: str) -> None:
    the_goal = goal("u-ada", target_skills=["kubernetes", "go"])
    scored = score_mentor(
        the_goal,
        mentor(
            "u-g", skills=[{"name": "kubernetes", "level": level}, {"name": "rust", "level": 5}]
        ),
    )
    assert scored is not None
    (reason,) = scored.reasons  # rust is not a goal skill: no reason for it
    assert reason.criterion == "skills"
    assert word in reason.explanation
    assert "kubernetes" in reason.explanation
    assert reason.contribution == pytest.approx(level / 5 / 2)
