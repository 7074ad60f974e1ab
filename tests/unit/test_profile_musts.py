"""A goal's musts that contradict the goal itself are named, field by field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.profile.domain.musts import (
    ContradictoryMusts,
    contradictions,
    require_consistent_musts,
)
from shared.contracts.goals import GoalFields
from tests.unit.builders import goal_fields


def _goal(**overrides: object) -> GoalFields:
    return GoalFields.model_validate(goal_fields(**overrides))


def test_a_goal_without_musts_requires_nothing() -> None:
    assert _goal().musts.pairs() == []
    assert contradictions(_goal()) == []


def test_a_must_on_an_ignored_criterion_contradicts_the_goal() -> None:
    goal = _goal(musts={"industries": ["fintech"]}, criteria={"industry": 0})
    assert contradictions(goal) == [
        ("musts.industries", "required, but criteria.industry is 0 (ignore it)")
    ]
    with pytest.raises(ContradictoryMusts, match=r"musts\.industries"):
        require_consistent_musts(goal)


def test_a_must_style_outside_the_preferred_styles_contradicts_the_goal() -> None:
    goal = _goal(musts={"styles": ["sounding_board"]}, preferred_styles=["coaching"])
    assert [field for field, _ in contradictions(goal)] == ["musts.styles"]
    within = _goal(musts={"styles": ["coaching"]}, preferred_styles=["coaching", "advising"])
    assert contradictions(within) == []
    assert contradictions(_goal(musts={"styles": ["coaching"]})) == []  # no preference stated


@pytest.mark.parametrize(
    "musts",
    [{"skills": ["go"]}, {"styles": ["cheerleading"]}, {"languages": ["en", "en"]}],
)
def test_an_unknown_or_repeated_must_is_invalid(musts: dict[str, list[str]]) -> None:
    with pytest.raises(ValidationError):
        _goal(musts=musts)
