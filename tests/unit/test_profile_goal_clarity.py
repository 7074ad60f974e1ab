"""The goal clarity rule: concrete goals pass, vague ones get suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.profile.domain.goal_clarity import VagueGoal, assess_goal, require_clear_goal
from tests.unit.builders import as_goal_fields


@pytest.mark.parametrize(
    "statement",
    [
        "manage better",
        "Be successful",
        "I want to grow and be a good leader",
        "Improve my career",
    ],
)
def test_statements_that_name_nothing_concrete_are_vague(statement: str) -> None:
    goal = as_goal_fields(statement=statement, target_skills=["kubernetes", "go"])
    with pytest.raises(VagueGoal) as caught:
        require_clear_goal(goal)
    suggestions = " ".join(a.suggestion for a in caught.value.advice)
    assert "kubernetes, go" in suggestions  # points at the goal's own target skills
    assert "6 months" in suggestions or "months" in suggestions


@pytest.mark.parametrize(
    ("statement", "targets"),
    [
        ("Lead our migration to Kubernetes within six months", ["kubernetes"]),
        ("Speak at 2 conferences", ["public speaking"]),
        ("Own product management for the payments team", ["product management"]),
        ("Write production C++ for the trading engine", ["c++"]),
    ],
)
def test_statements_naming_a_target_area_or_a_number_are_concrete(
    statement: str, targets: list[str]
) -> None:
    goal = as_goal_fields(statement=statement, target_skills=targets)
    assert assess_goal(goal).concrete
    assert require_clear_goal(goal) == ()


def test_an_industry_or_function_target_counts_as_concrete() -> None:
    goal = as_goal_fields(
        statement="Move into fintech", target_skills=["python"], target_industries=["fintech"]
    )
    assert assess_goal(goal).concrete


def test_loaded_words_in_a_concrete_goal_are_warnings_one_per_word() -> None:
    goal = as_goal_fields(
        statement="Manage better and be a more successful, better Kubernetes engineer",
        target_skills=["kubernetes"],
    )
    advice = require_clear_goal(goal)
    assert [a.term for a in advice] == ["manage", "better", "successful"]
    assert all(a.suggestion for a in advice)


def test_a_skill_named_only_as_part_of_another_word_does_not_count() -> None:
    goal = as_goal_fields(statement="Be a better gopher", target_skills=["go"])
    assert not assess_goal(goal).concrete


def documented_examples() -> list[tuple[str, list[str], bool]]:
    """The accepted and refused examples of docs/integrators.md, row by row."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "integrators.md").read_text()
    table = text.split("<!-- goal-clarity-examples -->")[1].split("<!-- /goal-clarity-examples")[0]
    rows = [line.strip().strip("|").split("|") for line in table.strip().splitlines()[2:]]
    return [
        (statement.strip(), [s.strip() for s in skills.split(",")], verdict.strip() == "accepted")
        for statement, skills, verdict, _why in rows
    ]


@pytest.mark.parametrize(("statement", "targets", "accepted"), documented_examples())
def test_the_documented_examples_are_what_the_rule_decides(
    statement: str, targets: list[str], accepted: bool
) -> None:
    goal = as_goal_fields(statement=statement, target_skills=targets)
    assert assess_goal(goal).concrete is accepted


def test_the_documented_table_has_both_verdicts() -> None:
    verdicts = [accepted for _, _, accepted in documented_examples()]
    assert verdicts.count(True) >= 5 and verdicts.count(False) >= 5
