"""What the engine proposes for a goal: its ranking, spread across the mentee's goals by the
one rule of domain/goal_spread.py (the batch reference applies it the same way)."""

from __future__ import annotations

from collections.abc import Iterable

from services.matching.domain.engine.rankings import Ranked
from services.matching.domain.engine.tenant import TenantEngine
from services.matching.domain.goal_spread import GoalPicks, spread
from services.matching.domain.seekers import mentee_of, split_seeker


def ranked_siblings(engine: TenantEngine, key: str) -> list[str]:
    """The seekers of the mentee's goals that are ranked now (this one included, if it is)."""
    found = []
    for other in engine.roster.seekers_of(mentee_of(key)):
        slot = engine.search.mentee_slot(other)
        if slot is not None and engine.search.is_ranked(slot):
            found.append(other)
    return found


def proposed(engine: TenantEngine, key: str) -> tuple[Ranked, ...]:
    """The goal's mentors to propose, best first: its ranking when the mentee has no other
    goal ranked, else the ranking spread across their goals."""
    siblings = ranked_siblings(engine, key)
    if key not in siblings or len(siblings) < 2:
        return engine.ranking(key)
    shown_by = engine.lists.shown_by
    goals = {}
    for other in siblings:
        slot = engine.search.mentee_slot(other)
        assert slot is not None
        pool = [(m, -negative) for negative, _, m, _ in engine.rankings.pool_of(slot, shown_by)]
        goals[split_seeker(other)[1]] = GoalPicks(engine.ranking(other), pool)
    return tuple(Ranked(m, s) for m, s in spread(goals)[split_seeker(key)[1]])


def spread_with(engine: TenantEngine, reranked: Iterable[str]) -> set[str]:
    """The goals whose proposals may move with these re-ranked ones: a goal's proposal depends
    on the rankings and pools of the mentee's other goals, so each goal of a mentee with
    several is looked at again."""
    found: set[str] = set()
    for mentee_id in {mentee_of(key) for key in reranked}:
        siblings = engine.roster.seekers_of(mentee_id)
        if len(siblings) > 1:
            found.update(siblings)
    return found
