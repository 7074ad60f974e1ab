"""The reference: every ranking computed from scratch, pair by pair, with no indexes.

Slow and obviously right; the incremental engine must always agree with it (property test),
and `rebuild --verify` uses it on a sample.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from services.matching.domain.constraints import (
    EngineConfig,
    allowed_pair,
    exposure_budget,
    free_seats,
    open_to_mentees,
    partition_share,
)
from services.matching.domain.criteria import score_pair, skill_level_sum
from services.matching.domain.diversify import Candidate, choose, jaccard
from services.matching.domain.people import Goal, Person, tiebreak


@dataclass
class Population:
    """The final state: people, goals, mentors' seats taken, excluded (mentee, mentor) pairs, and
    mentees whose goal waits (an active relationship for it: not ranked)."""

    people: dict[str, Person] = field(default_factory=dict)
    goals: dict[str, Goal] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    excluded: set[tuple[str, str]] = field(default_factory=set)
    paused: set[str] = field(default_factory=set)


Traits = tuple[frozenset[str], frozenset[str]]  # what makes two mentors the same type


def traits(mentor: Person) -> Traits:
    return frozenset(mentor.skills), frozenset(mentor.industries)


def traits_similarity(a: Traits, b: Traits) -> float:
    return (jaccard(a[0], b[0]) + jaccard(a[1], b[1])) / 2


def mentor_similarity(a: Person, b: Person) -> float:
    return traits_similarity(traits(a), traits(b))


def ranked_mentees(pop: Population) -> list[Person]:
    return [
        p
        for p in pop.people.values()
        if p.is_mentee and p.user_id in pop.goals and p.user_id not in pop.paused
    ]


def recompute(
    pop: Population, config: EngineConfig, partition_of: Callable[[str], int]
) -> dict[str, tuple[str, ...]]:
    mentees = ranked_mentees(pop)
    allowed: dict[str, list[Candidate]] = defaultdict(list)
    for mentor in pop.people.values():
        accepted = pop.accepted.get(mentor.user_id, 0)
        if not open_to_mentees(mentor, accepted):
            continue
        budget = exposure_budget(free_seats(mentor, accepted), config)
        by_partition: dict[int, list[tuple[float, int, str]]] = defaultdict(list)
        for mentee in mentees:
            goal = pop.goals[mentee.user_id]
            if (
                not allowed_pair(mentee, mentor)
                or (mentee.user_id, mentor.user_id) in pop.excluded
                or skill_level_sum(goal, mentor) == 0
            ):
                continue
            score = score_pair(goal, mentee, mentor).total
            by_partition[partition_of(mentee.user_id)].append(
                (score, tiebreak(mentee.user_id), mentee.user_id)
            )
        for partition, scored in by_partition.items():
            share = partition_share(budget, partition, mentor.user_id, config.partitions)
            scored.sort(key=lambda s: (-s[0], s[1]))
            for score, _, mentee_id in scored[:share]:
                allowed[mentee_id].append(
                    Candidate(mentor.user_id, score, tiebreak(mentor.user_id))
                )

    def similarities(others: Sequence[Candidate], picked: Candidate) -> list[float]:
        chosen = pop.people[str(picked.key)]
        return [mentor_similarity(pop.people[str(c.key)], chosen) for c in others]

    return {
        mentee.user_id: tuple(
            str(c.key)
            for c in choose(
                allowed[mentee.user_id],
                config.top_k,
                config.pool_factor,
                config.diversity,
                similarities,
            )
        )
        for mentee in mentees
    }
