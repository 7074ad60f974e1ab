"""When a goal's musts contradict the rest of the goal: refused, naming the field.

A must is a hard requirement on a mentor (shared/contracts/musts.py). It contradicts the goal
when the goal also says the same criterion does not matter (its weight is 0, "ignore"), or
when it requires a mentoring style outside the preferred styles the goal lists. Unknown musts
(a kind or style the contract does not know) and repeated values are refused by the contract.
"""

from __future__ import annotations

from shared.contracts.goals import GoalFields

# a must's kind -> the criterion weight that says how much it matters
_CRITERION_OF = {"languages": "language", "industries": "industry", "styles": "style"}


class ContradictoryMusts(Exception):  # noqa: N818 - reads as a verdict
    """`problems`: (field, message) for each contradiction."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


def contradictions(goal: GoalFields) -> list[tuple[str, str]]:
    problems = []
    for kind, criterion in _CRITERION_OF.items():
        if getattr(goal.musts, kind) and getattr(goal.criteria, criterion) == 0:
            problems.append(
                (f"musts.{kind}", f"required, but criteria.{criterion} is 0 (ignore it)")
            )
    if goal.preferred_styles:
        outside = sorted(set(goal.musts.styles) - set(goal.preferred_styles))
        if outside:
            problems.append(
                ("musts.styles", f"{', '.join(outside)} required, but not in preferred_styles")
            )
    return problems


def require_consistent_musts(goal: GoalFields) -> None:
    problems = contradictions(goal)
    if problems:
        raise ContradictoryMusts(problems)
