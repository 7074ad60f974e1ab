"""Diversity across a mentee's goals (ADR 0012): one mentor is not proposed for every goal of
the same mentee unless clearly best.

The rule, over the rankings of the mentee's open goals that are ranked now (a goal that waits
on a relationship, or is closed, takes no part):
- a mentor ranked for one goal only is proposed there, as ranked;
- a mentor ranked for several goals is proposed for its *home* goal (where it scores highest;
  on a tie, the goal whose id sorts first) and, for each other goal, only when it is clearly
  best there: its score beats the best alternative by CLEAR_MARGIN, or there is no
  alternative. Otherwise the alternative takes its slot (same rank).
- an alternative of a goal is a mentor of that goal's pool (the best-scored candidates the
  ranking chose from, best first) whom no goal of the mentee ranks and no other slot took.
Goals are gone through in goal id order, so the outcome is one, whatever order they came in.
The engine's proposals (domain/engine/proposed.py) and the batch reference
(domain/batch.proposals) both apply this function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CLEAR_MARGIN = 0.1  # on the 0-1 score scale: about a tenth of the best possible match

Scored = tuple[str, float]  # mentor id, score for this goal


@dataclass(frozen=True)
class GoalPicks:
    ranking: Sequence[Scored]  # the goal's ranking, best first
    pool: Sequence[Scored]  # the candidates it was chosen from, by relevance


def spread(goals: Mapping[str, GoalPicks], margin: float = CLEAR_MARGIN) -> dict[str, list[Scored]]:
    """Each goal's proposal (goal id -> mentors with their scores, in rank order)."""
    scores: dict[str, dict[str, float]] = {}
    for goal_id, picks in goals.items():
        for mentor_id, score in picks.ranking:
            scores.setdefault(mentor_id, {})[goal_id] = score
    home = {m: min(by_goal, key=lambda g: (-by_goal[g], g)) for m, by_goal in scores.items()}
    taken: set[str] = set()
    proposals: dict[str, list[Scored]] = {}
    for goal_id in sorted(goals):
        picks = goals[goal_id]
        alternatives = [(m, s) for m, s in picks.pool if m not in scores]
        shown: list[Scored] = []
        for mentor_id, score in picks.ranking:
            free = [a for a in alternatives if a[0] not in taken]
            if home[mentor_id] == goal_id or not free or score >= free[0][1] + margin:
                shown.append((mentor_id, score))
            else:
                taken.add(free[0][0])
                shown.append(free[0])
        proposals[goal_id] = shown
    return proposals
