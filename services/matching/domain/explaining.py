"""Answers about one mentee's goal, computed from the stored state with the same rules the
engine uses: which hard rule keeps a mentor out, and the ranking other weights would give.

Nothing here scores or constrains anew: the score is criteria.score_pair, the rules are
constraints.py, musts.py and relationships.py, and a ranking is the batch reference
(batch.recompute) run over this one mentee, with the other mentees' places in each mentor's
exposure-capped list taken from the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from services.matching.domain.batch import Population, recompute
from services.matching.domain.constraints import (
    EngineConfig,
    OrderKey,
    allowed_pair,
    exposure_budget,
    exposure_cutoff,
    free_seats,
    within_cap,
)
from services.matching.domain.criteria import score_pair, skill_level_sum
from services.matching.domain.mentor_lists import stored_best
from services.matching.domain.musts import unmet
from services.matching.domain.people import Goal, Person, tiebreak
from services.matching.domain.relationships import HOLDING, Blocks, Relationship, blocks
from services.matching.domain.seekers import seeker_key
from shared.contracts.musts import requirement


@dataclass(frozen=True)
class MenteeGoal:
    """What the store holds about one mentee's goal: who they are, what they want, and whom
    their feedback and relationships rule out."""

    mentee: Person
    goal: Goal
    declined: frozenset[str]
    relationships: tuple[Relationship, ...]

    @property
    def blocks(self) -> Blocks:
        return blocks(self.goal.goal_id, self.declined, self.relationships)

    @property
    def key(self) -> str:
        """The goal as matching ranks it: a seeker (domain/seekers.py)."""
        return seeker_key(self.mentee.user_id, self.goal.goal_id)

    def with_weights(
        self, weights: tuple[float, ...], musts: tuple[tuple[str, str], ...] | None = None
    ) -> MenteeGoal:
        """The same goal with other weights, and other musts unless `musts` is None."""
        goal = replace(self.goal, weights=weights)
        return replace(self, goal=goal if musts is None else replace(goal, musts=musts))


# mentor id -> order keys of the best other mentees of the tenant (stored mentor lists)
Elsewhere = Mapping[str, Sequence[OrderKey]]
StoredEntries = Sequence[tuple[str, float]]  # one partition's list: (mentee id, score), best first


def others_best(
    seeker: str, mentor: Person, lists: Sequence[StoredEntries], config: EngineConfig
) -> list[OrderKey]:
    """The order keys of the mentor's best other seekers (goals) in each partition: what this
    goal's own key is weighed against in the mentor's tenant-wide exposure cap."""
    budget = exposure_budget(free_seats(mentor, mentor.seats_taken), config)
    return [
        key
        for entries in lists
        for key in stored_best([e for e in entries if e[0] != seeker], budget)
    ]


def one_mentee_population(
    view: MenteeGoal, mentors: Mapping[str, Person], elsewhere: Elsewhere
) -> Population:
    key, held = view.key, view.blocks
    people = dict(mentors)
    people[view.mentee.user_id] = view.mentee
    return Population(
        people=people,
        goals={key: view.goal},
        accepted={m.user_id: m.seats_taken for m in mentors.values()},
        excluded={(key, mentor_id) for mentor_id in held.excluded},
        elsewhere={m: list(keys) for m, keys in elsewhere.items()},
        paused={key} if held.paused else set(),
    )


def ranking(
    view: MenteeGoal, mentors: Mapping[str, Person], elsewhere: Elsewhere, config: EngineConfig
) -> tuple[str, ...]:
    """The mentors the engine would propose for this goal, best first."""
    population = one_mentee_population(view, mentors, elsewhere)
    return recompute(population, config).get(view.key, ())


@dataclass(frozen=True)
class Excluded:
    rule: str
    detail: str


def exclusion(
    view: MenteeGoal, mentor: Person, elsewhere: Sequence[OrderKey], config: EngineConfig
) -> Excluded | None:
    """The first hard rule that keeps `mentor` out of this goal's proposals, in words; None
    when no rule does (then only the score and the variety of the proposal decide)."""
    mentee, goal, name = view.mentee, view.goal, mentor.display_name
    if mentor.user_id == mentee.user_id:
        return Excluded("same_person", "this is the mentee themselves")
    if not allowed_pair(mentee, mentor):
        return Excluded("reporting_line", f"{name} is in your direct reporting line")
    if not mentor.is_mentor:
        return Excluded("not_a_mentor", f"{name} does not mentor")
    if mentor.user_id in view.declined:
        return Excluded("declined", f"you said 'Not for me' to {name}: never proposed again")
    for found in view.relationships:
        if found.mentor_id != mentor.user_id:
            continue
        if found.state in HOLDING:
            what = "asked" if found.state == "requested" else "are working with"
            return Excluded("in_relationship", f"you {what} {name} already")
        if found.never_again or found.goal_id == goal.goal_id:
            scope = "ever" if found.never_again else "for this goal"
            detail = f"a request to {name} ended ({found.state}): not proposed again {scope}"
            return Excluded("not_again_for_goal", detail)
    if view.blocks.paused:
        return Excluded("goal_waiting", "a relationship for this goal is active: no proposals")
    return _mentor_rule(view, goal, mentor, elsewhere, config)


def _mentor_rule(
    view: MenteeGoal,
    goal: Goal,
    mentor: Person,
    elsewhere: Sequence[OrderKey],
    config: EngineConfig,
) -> Excluded | None:
    name, seats = mentor.display_name, free_seats(mentor, mentor.seats_taken)
    if not mentor.opted_in:
        return Excluded("not_taking_mentees", f"{name} is not taking mentees now")
    if seats == 0:
        taken = f"{mentor.seats_taken} of {mentor.capacity}"
        return Excluded("no_free_seat", f"{name} has no free seat: {taken} are taken")
    if skill_level_sum(goal, mentor) == 0:
        return Excluded("no_goal_skill", f"{name} holds none of your goal skills")
    missing = unmet(goal, mentor)
    if missing:
        lacks = " and ".join(requirement(kind, value) for kind, value in missing)
        return Excluded("unmet_must", f"your goal requires a mentor who {lacks}; {name} does not")
    budget = exposure_budget(seats, config)
    key = (-score_pair(goal, view.mentee, mentor).total, tiebreak(view.key))
    if not within_cap(key, exposure_cutoff([key, *elsewhere], budget)):
        detail = (
            f"{name} is shown to at most {budget} mentees at once ({config.exposure_per_seat:g}"
            f" per free seat), and {budget} others match {name} better"
        )
        return Excluded("exposure_cap", detail)
    return None
