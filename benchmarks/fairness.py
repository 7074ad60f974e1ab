"""How fairly the exposure cap spreads mentors, over the whole population, from the final state.

The cap (ADR 0010) counts a mentor's exposure as the mentees whose candidates it is among
(the shown part of its lists); a mentor has exposure left while fewer mentees than its budget
count it. Every figure is read from the engine's state and the hard constraints checked pair by
pair (`batch.may_meet`), not from what the engine's rule promises.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.matching.domain.batch import Population, may_meet, ranked_seekers
from services.matching.domain.constraints import open_to_mentees
from services.matching.domain.engine import TenantEngine, population
from services.matching.domain.engine.hosts import WHOLE, walk_of
from services.matching.domain.people import Person, tiebreak
from services.matching.domain.seekers import split_seeker


@dataclass(frozen=True)
class Fairness:
    rankable_mentees: int  # with a profile and a goal
    # an empty ranking, though a mentor with exposure left may meet them
    unmatched_rankable_mentees: int
    # the same, counting a mentor's exposure as the rankings that name it
    unmatched_if_proposals_counted: int
    mentors_with_free_seats: int
    # named in no ranking, though some mentee may meet them
    mentors_never_shown_with_free_seats: int


def fairness(engine: TenantEngine) -> Fairness:
    pop = population(engine)
    mentees = ranked_seekers(pop)  # (seeker, person): one per open goal
    open_mentors = [
        m for m in pop.people.values() if open_to_mentees(m, pop.accepted.get(m.user_id, 0))
    ]
    candidate_of = Counter(mentor for by in engine.lists.shown_by.values() for mentor in by)
    named = Counter(r.mentor_id for ranking in engine.rankings.by_mentee.values() for r in ranking)
    unranked = [(k, x) for k, x in mentees if not engine.ranking(k)]

    def unmatched(counted: Counter[str]) -> int:
        left = [m for m in open_mentors if counted[m.user_id] < engine.budget(m.user_id)]
        holding = by_skill(left, lambda m: m.skills)
        return sum(
            1
            for k, x in unranked
            if any(may_meet(pop, k, x, m) for m in holders(holding, pop.goals[k].skills))
        )

    return Fairness(
        rankable_mentees=len(mentees),
        unmatched_rankable_mentees=unmatched(candidate_of),
        unmatched_if_proposals_counted=unmatched(named),
        mentors_with_free_seats=len(open_mentors),
        mentors_never_shown_with_free_seats=len(never_shown(engine, pop, named)),
    )


def never_shown(
    engine: TenantEngine, pop: Population | None = None, named: Counter[str] | None = None
) -> list[Person]:
    """The mentors with free seats named in no ranking, though some ranked goal may meet them."""
    pop = pop or population(engine)
    if named is None:
        named = Counter(r.mentor_id for by in engine.rankings.by_mentee.values() for r in by)
    never = [
        m
        for m in pop.people.values()
        if open_to_mentees(m, pop.accepted.get(m.user_id, 0)) and not named[m.user_id]
    ]
    wanting: dict[str, list[tuple[str, Person]]] = defaultdict(list)
    for k, x in ranked_seekers(pop) if never else ():
        for skill in pop.goals[k].skills:
            wanting[skill].append((k, x))
    return [
        m
        for m in never
        if any(may_meet(pop, k, x, m) for skill in m.skills for k, x in wanting.get(skill, ()))
    ]


def why_unseen(engine: TenantEngine, mentor: Person) -> str:
    """Why a mentor with free seats is in no ranking: where its walk (the seekers within its
    cap, best first) took it, and what each seeker held (engine/hosts.py)."""
    hosts, search = engine.rankings.hosts, engine.search
    walk = walk_of(engine.lists, mentor.user_id, WHOLE)
    if not walk:
        return "no seeker within its cap (its lists hold none)"
    order = tiebreak(mentor.user_id)
    firsts = Counter(w[0][1] for m in hosts.prefix if (w := walk_of(engine.lists, m, 1)))
    seekers = []
    for entry in walk:
        guests = hosts.seated.get(entry[1], [])
        name = _seeker(search.mentee_id(entry[2])) if entry[2] >= 0 else f"elsewhere {entry[1]}"
        ahead = sum(1 for g in guests if g < (entry[0], order, mentor.user_id))
        seekers.append(
            f"{name} (score {-entry[0]:.3f}; first choice of {firsts[entry[1]]} mentors;"
            f" hosts {len(guests)} of {hosts.places}, {ahead} scored better)"
        )
    host = hosts.host.get(mentor.user_id)
    where = (
        f"hosted by {_seeker(search.mentee_id(host[2]))} yet not named (a defect)"
        if host is not None
        else f"turned away by all {len(walk)} seekers of its walk, each full of better guests"
    )
    return f"budget {engine.budget(mentor.user_id)}: {where}: " + "; ".join(seekers)


def _seeker(key: str) -> str:
    mentee_id, goal_id = split_seeker(key)
    return f"{mentee_id}'s goal {goal_id}"


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.fairness [bench-matching's options]`: the benchmark's population
    built the same way, its fairness line, and each mentor never shown with why."""
    from benchmarks.matching import build, parse

    args = parse(argv)
    engine, _, _ = build(args, random.Random(args.seed))
    print(fairness(engine), flush=True)
    for mentor in never_shown(engine):
        print(f"never shown: {mentor.user_id}, {why_unseen(engine, mentor)}", flush=True)


def by_skill(
    people: Iterable[Person], skills_of: Callable[[Person], Iterable[str]]
) -> dict[str, list[Person]]:
    index: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        for skill in skills_of(person):
            index[skill].append(person)
    return index


def holders(index: dict[str, list[Person]], skills: Iterable[str]) -> Iterable[Person]:
    seen: set[str] = set()
    for skill in skills:
        for person in index.get(skill, ()):
            if person.user_id not in seen:
                seen.add(person.user_id)
                yield person


if __name__ == "__main__":
    main()
