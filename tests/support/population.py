"""A seeded synthetic population for the matching benchmark.

Skill popularity is Zipf-like (a few skills are wanted and offered by many people, most by
few); mentors hold 3-10 skills with levels skewed to 3-5; goals name 1-5 skills, mostly 2-3,
drawn from the same skewed distribution. Half of the people give weekly availability.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from services.matching.domain.people import (
    HOURS_PER_WEEK,
    Goal,
    Person,
    shared_background,
    shared_names,
)
from shared.contracts.goals import DEFAULT_GOAL_ID

SKILL_COUNT = 300
ZIPF_EXPONENT = 1.1
INDUSTRIES = tuple(f"industry-{i:02d}" for i in range(30))
FUNCTIONS = tuple(f"function-{i:02d}" for i in range(15))
LANGUAGES = ("en", "de", "fr", "es", "pt", "hi", "ja")
LANGUAGE_WEIGHTS = (70, 8, 7, 6, 4, 3, 2)
STYLES = ("coaching", "advising", "sponsoring", "sounding_board", "teaching", "challenging")
BACKGROUND = {
    "education": ("first generation graduate", "graduate", "self taught", "bootcamp"),
    "career path": ("career changer", "linear", "returner"),
    "region": ("emea", "americas", "apac"),
}
UTC_OFFSETS = (-480, -300, -240, 0, 0, 60, 60, 120, 330, 480, 540, 600)
PREFERENCES = ("no_preference", "similar", "different")
GOAL_SIZES, GOAL_SIZE_WEIGHTS = (1, 2, 3, 4, 5), (15, 35, 30, 12, 8)
LEVELS, LEVEL_WEIGHTS = (1, 2, 3, 4, 5), (3, 7, 30, 35, 25)


def zipf_weights(count: int, exponent: float) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(count)]


@dataclass
class Draw:
    """Weighted draws without replacement from a fixed list, by cumulative weights."""

    names: Sequence[str]
    cumulative: list[float]

    @classmethod
    def of(cls, names: Sequence[str], weights: Sequence[float]) -> Draw:
        return cls(names, list(itertools.accumulate(weights)))

    def distinct(self, rng: random.Random, count: int) -> list[str]:
        total, chosen = self.cumulative[-1], dict[str, None]()
        while len(chosen) < min(count, len(self.names)):
            index = bisect.bisect_right(self.cumulative, rng.random() * total)
            chosen[self.names[min(index, len(self.names) - 1)]] = None
        return list(chosen)


SKILLS = Draw.of(
    tuple(f"skill-{i:03d}" for i in range(SKILL_COUNT)), zipf_weights(SKILL_COUNT, ZIPF_EXPONENT)
)
INDUSTRY_DRAW = Draw.of(INDUSTRIES, zipf_weights(len(INDUSTRIES), 0.8))
FUNCTION_DRAW = Draw.of(FUNCTIONS, zipf_weights(len(FUNCTIONS), 0.8))
LANGUAGE_DRAW = Draw.of(LANGUAGES, LANGUAGE_WEIGHTS)


def week(rng: random.Random, offset_minutes: int) -> int:
    """A few local evening or lunchtime blocks, as UTC hour bits; 0 (none given) half the time."""
    if rng.random() < 0.5:
        return 0
    mask = 0
    for day in rng.sample(range(7), rng.randint(1, 3)):
        start = rng.choice((12, 17, 18, 19))
        for hour in range(start, start + rng.randint(1, 3)):
            local = day * 24 + hour
            mask |= 1 << ((local - offset_minutes // 60) % HOURS_PER_WEEK)
    return mask


def background(rng: random.Random) -> dict[str, str]:
    dims = rng.sample(sorted(BACKGROUND), rng.choice((0, 1, 2, 2, 3)))
    return {dim: rng.choice(BACKGROUND[dim]) for dim in sorted(dims)}


def common(rng: random.Random) -> dict[str, object]:
    offset = rng.choice(UTC_OFFSETS)
    return {
        "industries": shared_names(sorted(INDUSTRY_DRAW.distinct(rng, rng.choice((1, 1, 2))))),
        "functions": shared_names(sorted(FUNCTION_DRAW.distinct(rng, 1))),
        "background": shared_background(background(rng).items()),
        "languages": shared_names(sorted(LANGUAGE_DRAW.distinct(rng, rng.choice((1, 1, 1, 2))))),
        "week": week(rng, offset),
        "utc_offset_minutes": offset,
    }


def person(
    rng: random.Random, user_id: str, mentor_role: bool, skills: dict[str, int], years: int
) -> Person:
    styles = shared_names(sorted(rng.sample(STYLES, rng.randint(1, 3)))) if mentor_role else ()
    return Person(
        user_id=user_id,
        version=1,
        is_mentor=mentor_role,
        is_mentee=not mentor_role,
        display_name=user_id,
        headline=None,
        skills=skills,
        years=years,
        styles=styles,
        capacity=rng.randint(1, 4) if mentor_role else 0,
        opted_in=True,
        manager_id=None,
        **common(rng),  # type: ignore[arg-type]
    )


def mentor(rng: random.Random, user_id: str) -> Person:
    skills = SKILLS.distinct(rng, rng.randint(3, 10))
    levels = {s: rng.choices(LEVELS, LEVEL_WEIGHTS)[0] for s in skills}
    return person(rng, user_id, True, levels, rng.randint(5, 35))


def mentee(rng: random.Random, user_id: str) -> Person:
    skills = {s: rng.randint(1, 3) for s in SKILLS.distinct(rng, rng.randint(0, 3))}
    return person(rng, user_id, False, skills, rng.randint(0, 15))


def goal(
    rng: random.Random, mentee_id: str, version: int = 1, goal_id: str = DEFAULT_GOAL_ID
) -> Goal:
    """The mentee's goal `goal_id` (a newer version of the same goal, by default the goal
    `default`: matching ranks each goal of a mentee apart, ADR 0012)."""
    size = rng.choices(GOAL_SIZES, GOAL_SIZE_WEIGHTS)[0]
    return Goal(
        mentee_id=mentee_id,
        version=version,
        goal_id=goal_id,
        skills=tuple(SKILLS.distinct(rng, size)),
        industries=shared_names(sorted(INDUSTRY_DRAW.distinct(rng, rng.choice((0, 0, 1))))),
        functions=shared_names(sorted(FUNCTION_DRAW.distinct(rng, rng.choice((0, 0, 1))))),
        background_preference=rng.choice(PREFERENCES),
        styles=shared_names(sorted(rng.sample(STYLES, rng.choice((0, 1, 1, 2))))),
    )


def with_musts(rng: random.Random, drawn: Goal) -> Goal:
    """The goal with one must (domain/musts.py): a language as often as an industry and a
    style together, each drawn as profiles hold them (so most musts are met by someone)."""
    kind = rng.choice(("languages", "languages", "industries", "styles"))
    if kind == "languages":
        value = LANGUAGE_DRAW.distinct(rng, 1)[0]
    elif kind == "industries":
        value = INDUSTRY_DRAW.distinct(rng, 1)[0]
    else:
        value = rng.choice(STYLES)
    return replace(drawn, musts=((kind, value),))
