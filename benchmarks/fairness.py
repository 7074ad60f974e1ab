"""How fairly the exposure cap spreads mentors, over the whole population, from the final state.

The cap (ADR 0010) counts a mentor's exposure as the mentees whose candidates it is among
(the shown part of its lists); a mentor has exposure left while fewer mentees than its budget
count it. Every figure is read from the engine's state and the hard constraints checked pair by
pair (`batch.may_meet`), not from what the engine's rule promises.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.matching.domain.batch import may_meet, ranked_seekers
from services.matching.domain.constraints import open_to_mentees
from services.matching.domain.engine import TenantEngine, population
from services.matching.domain.people import Person


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

    never = [m for m in open_mentors if not named[m.user_id]]
    wanting: dict[str, list[tuple[str, Person]]] = defaultdict(list)
    for k, x in mentees if never else ():
        for skill in pop.goals[k].skills:
            wanting[skill].append((k, x))
    return Fairness(
        rankable_mentees=len(mentees),
        unmatched_rankable_mentees=unmatched(candidate_of),
        unmatched_if_proposals_counted=unmatched(named),
        mentors_with_free_seats=len(open_mentors),
        mentors_never_shown_with_free_seats=sum(
            1
            for m in never
            if any(may_meet(pop, k, x, m) for skill in m.skills for k, x in wanting.get(skill, ()))
        ),
    )


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
