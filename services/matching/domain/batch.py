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
    free_seats,
    guest_places,
    open_to_mentees,
    stable_hosts,
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
# mentor -> its walk (constraints.Walk), each key with the seeker it names (None: elsewhere)
Walks = dict[str, tuple[int, list[tuple[OrderKey, str | None]]]]


def walks(pop: Population, config: EngineConfig) -> Walks:
    """Each open mentor's seekers within its cap, best first: its candidacies, whose first
    entries are where it may be a guest (constraints.stable_hosts)."""
    seekers = ranked_seekers(pop)
    found: Walks = {}
    for mentor in pop.people.values():
        accepted = pop.accepted.get(mentor.user_id, 0)
        if not open_to_mentees(mentor, accepted):
            continue
        budget = exposure_budget(free_seats(mentor, accepted), config)
        scored: list[tuple[OrderKey, str | None]] = [
            ((-score_pair(pop.goals[key], mentee, mentor).total, tiebreak(key)), key)
            for key, mentee in seekers
            if may_meet(pop, key, mentee, mentor)
        ]
        scored += [(key, None) for key in pop.elsewhere.get(mentor.user_id, [])]
        cutoff = exposure_cutoff([key for key, _ in scored], budget)
        walk = sorted(pair for pair in scored if within_cap(pair[0], cutoff))
        if walk and budget > 0:
            found[mentor.user_id] = (tiebreak(mentor.user_id), walk)
    return found


def _allowed(pop: Population, config: EngineConfig) -> tuple[Allowed, Allowed]:
    """Each ranked seeker's candidates: the mentors whose exposure cap shows it; and the
    mentors it hosts (constraints.stable_hosts)."""
    allowed: Allowed = {key: [] for key, _ in ranked_seekers(pop)}
    found = walks(pop, config)
    for mentor_id, (order, walk) in found.items():
        for (negative, _), key in walk:
            if key is not None:
                allowed[key].append(Candidate(mentor_id, -negative, order))
    hosted_by: Allowed = defaultdict(list)
    hosts = stable_hosts(
        {m: (o, [k for k, _ in w]) for m, (o, w) in found.items()}, guest_places(config)
    )
    for mentor_id, host in hosts.items():
        order, walk = found[mentor_id]
        key = dict(walk)[host]
        if key is not None:  # else a seeker in a partition owned elsewhere
            hosted_by[key].append(Candidate(mentor_id, -host[0], order))
    return allowed, hosted_by


def picks(pop: Population, config: EngineConfig) -> dict[str, GoalPicks]:
    """Each ranked seeker's ranking (MMR over its pool, then the mentors it hosts that MMR did
    not pick) and the pool it was chosen from."""

    def similarities(others: Sequence[Candidate], picked: Candidate) -> list[float]:
        chosen = pop.people[str(picked.key)]
        return [mentor_similarity(pop.people[str(c.key)], chosen) for c in others]

    found = {}
    allowed, hosted_by = _allowed(pop, config)
    for key, candidates in allowed.items():
        pool = by_relevance(candidates)[: config.pool_factor * config.top_k]
        ranking = diversify(pool, config.top_k, config.diversity, similarities)
        named = {c.key for c in ranking}
        ranking += [c for c in by_relevance(hosted_by.get(key, [])) if c.key not in named]
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
