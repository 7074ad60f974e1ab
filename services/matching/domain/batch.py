"""The reference: every ranking computed from scratch, pair by pair, with no indexes.

Slow and obviously right; the incremental engine must always agree with it (property test),
and `rebuild --verify` uses it on a sample.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.matching.domain.constraints import (
    EngineConfig,
    OrderKey,
    allowed_pair,
    exposure_budget,
    exposure_cutoff,
    first_choice,
    free_seats,
    open_to_mentees,
    within_cap,
)
from services.matching.domain.criteria import score_pair, skill_level_sum
from services.matching.domain.diversify import Candidate, by_relevance, diversify, jaccard
from services.matching.domain.goal_spread import GoalPicks, spread
from services.matching.domain.musts import meets
from services.matching.domain.people import Goal, Person, tiebreak
from services.matching.domain.seekers import seeker_key, split_seeker


@dataclass
class Population:
    """The final state: people, open goals by seeker (domain/seekers.py), mentors' seats taken,
    excluded (seeker, mentor) pairs, and seekers whose goal waits (an active relationship for
    it: not ranked)."""

    people: dict[str, Person] = field(default_factory=dict)
    goals: dict[str, Goal] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    excluded: set[tuple[str, str]] = field(default_factory=set)
    # mentor -> order keys of its best mentees in partitions not in `goals` (owned elsewhere):
    # they take their part of the tenant-wide cap
    elsewhere: dict[str, list[OrderKey]] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)


Traits = tuple[frozenset[str], frozenset[str]]  # what makes two mentors the same type


def traits(mentor: Person) -> Traits:
    return frozenset(mentor.skills), frozenset(mentor.industries)


def traits_similarity(a: Traits, b: Traits) -> float:
    return (jaccard(a[0], b[0]) + jaccard(a[1], b[1])) / 2


def mentor_similarity(a: Person, b: Person) -> float:
    return traits_similarity(traits(a), traits(b))


def ranked_seekers(pop: Population) -> list[tuple[str, Person]]:
    """The seekers ranked (an open goal of a mentee, not waiting), with their person."""
    return [
        (key, person)
        for key, goal in pop.goals.items()
        if (person := pop.people.get(goal.mentee_id)) is not None
        and person.is_mentee
        and key not in pop.paused
    ]


def may_meet(pop: Population, key: str, mentee: Person, mentor: Person) -> bool:
    """The hard constraints of a pair, besides the mentor being open (ADR 0005): never self or
    one's reporting line, never a pair excluded by feedback, a goal skill the mentor holds, and
    every must of the goal met (domain/musts.py)."""
    goal = pop.goals[key]
    return (
        allowed_pair(mentee, mentor)
        and (key, mentor.user_id) not in pop.excluded
        and skill_level_sum(goal, mentor) > 0
        and meets(goal, mentor)
    )


Allowed = dict[str, list[Candidate]]  # seeker -> candidates


def _allowed(pop: Population, config: EngineConfig) -> tuple[Allowed, Allowed]:
    """Each ranked seeker's candidates: the mentors whose exposure cap shows it; and the
    mentors whose first choice it is (constraints.first_choice)."""
    seekers = ranked_seekers(pop)
    allowed: Allowed = {key: [] for key, _ in seekers}
    chosen_by: Allowed = defaultdict(list)
    for mentor in pop.people.values():
        accepted = pop.accepted.get(mentor.user_id, 0)
        if not open_to_mentees(mentor, accepted):
            continue
        budget = exposure_budget(free_seats(mentor, accepted), config)
        scored: list[tuple[float, int, str]] = []  # (-score, tiebreak, seeker)
        for key, mentee in seekers:
            if not may_meet(pop, key, mentee, mentor):
                continue
            score = score_pair(pop.goals[key], mentee, mentor).total
            scored.append((-score, tiebreak(key), key))
        keys = [(s[0], s[1]) for s in scored] + pop.elsewhere.get(mentor.user_id, [])
        cutoff, first = exposure_cutoff(keys, budget), first_choice(keys, budget)
        for negative, order, key in scored:
            candidate = Candidate(mentor.user_id, -negative, tiebreak(mentor.user_id))
            if within_cap((negative, order), cutoff):
                allowed[key].append(candidate)
            if (negative, order) == first:
                chosen_by[key].append(candidate)
    return allowed, chosen_by


def picks(pop: Population, config: EngineConfig) -> dict[str, GoalPicks]:
    """Each ranked seeker's ranking (MMR over its pool, then the mentors whose first choice it
    is that MMR did not pick) and the pool it was chosen from."""

    def similarities(others: Sequence[Candidate], picked: Candidate) -> list[float]:
        chosen = pop.people[str(picked.key)]
        return [mentor_similarity(pop.people[str(c.key)], chosen) for c in others]

    found = {}
    allowed, chosen_by = _allowed(pop, config)
    for key, candidates in allowed.items():
        pool = by_relevance(candidates)[: config.pool_factor * config.top_k]
        ranking = diversify(pool, config.top_k, config.diversity, similarities)
        named = {c.key for c in ranking}
        ranking += [c for c in by_relevance(chosen_by.get(key, [])) if c.key not in named]
        ranking = ranking[: max(config.top_k, config.most_named)]
        found[key] = GoalPicks(
            [(str(c.key), c.score) for c in ranking], [(str(c.key), c.score) for c in pool]
        )
    return found


def recompute(pop: Population, config: EngineConfig) -> dict[str, tuple[str, ...]]:
    """Every ranked seeker's ranking, as mentor ids."""
    return {key: tuple(m for m, _ in p.ranking) for key, p in picks(pop, config).items()}


def proposals(pop: Population, config: EngineConfig) -> dict[str, tuple[str, ...]]:
    """Every ranked seeker's proposal: its ranking, spread across the mentee's goals
    (domain/goal_spread.py)."""
    by_mentee: dict[str, dict[str, GoalPicks]] = defaultdict(dict)
    for key, found in picks(pop, config).items():
        mentee_id, goal_id = split_seeker(key)
        by_mentee[mentee_id][goal_id] = found
    return {
        seeker_key(mentee_id, goal_id): tuple(m for m, _ in shown)
        for mentee_id, goals in by_mentee.items()
        for goal_id, shown in spread(goals).items()
    }
