"""The score of one (mentee goal, mentor) pair, criterion by criterion (see docs/adr/0005).

Every similarity is a ratio of small integers, and the weighted sum is taken in CRITERIA
order, so the engine's compiled searches (search/steps.py) compute bit-for-bit the same floats.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.matching.domain.people import CRITERIA, Goal, Person

LEVEL_WORDS = {1: "beginner", 2: "familiar", 3: "practitioner", 4: "senior", 5: "expert"}
IDEAL_GAP_MIN, IDEAL_GAP_MAX = 3, 15
ENOUGH_COMMON_HOURS = 2
TIMEZONE_TOLERANCE_MINUTES = 480
BACKGROUND_SIMILAR, BACKGROUND_DIFFERENT = "similar", "different"
MAX_REASONS = 4


@dataclass(frozen=True)
class PairScore:
    total: float
    contributions: tuple[float, ...]  # per criterion, summing to total


def industry_targets(goal: Goal, mentee: Person) -> tuple[str, ...]:
    return goal.industries or mentee.industries


def function_targets(goal: Goal, mentee: Person) -> tuple[str, ...]:
    return goal.functions or mentee.functions


def active_weights(goal: Goal, mentee: Person) -> tuple[float, ...]:
    """The mentee's weights, with criteria they gave no data for switched off."""
    present = (
        True,
        True,
        bool(industry_targets(goal, mentee)),
        bool(function_targets(goal, mentee)),
        goal.background_preference in (BACKGROUND_SIMILAR, BACKGROUND_DIFFERENT)
        and bool(mentee.background),
        bool(goal.styles),
        bool(mentee.languages),
        True,
    )
    return tuple(w if on else 0.0 for w, on in zip(goal.weights, present, strict=True))


def weight_total(weights: tuple[float, ...]) -> float:
    total = 0.0
    for weight in weights:
        total = total + weight
    return total if total > 0 else 1.0


def skill_level_sum(goal: Goal, mentor: Person) -> int:
    return sum(mentor.skills.get(skill, 0) for skill in goal.skills)


def experience_fit(gap: int) -> float:
    if gap <= 0:
        return 0.0
    if gap < IDEAL_GAP_MIN:
        return gap / IDEAL_GAP_MIN
    if gap <= IDEAL_GAP_MAX:
        return 1.0
    return max(0.0, 1 - (gap - IDEAL_GAP_MAX) / IDEAL_GAP_MAX)


def _share(targets: tuple[str, ...], offered: tuple[str, ...]) -> float:
    if not targets:
        return 0.0
    return len(set(targets) & set(offered)) / len(targets)


def background_fit(goal: Goal, mentee: Person, mentor: Person) -> float:
    dims = len(mentee.background)
    if dims == 0:
        return 0.0
    same = sum(1 for d, v in mentee.background.items() if mentor.background.get(d) == v)
    if goal.background_preference == BACKGROUND_DIFFERENT:
        known = sum(1 for d in mentee.background if d in mentor.background)
        return (known - same) / dims
    return same / dims


def availability_fit(mentee: Person, mentor: Person) -> float:
    if mentee.week and mentor.week:
        return min(1.0, (mentee.week & mentor.week).bit_count() / ENOUGH_COMMON_HOURS)
    gap = abs(mentee.utc_offset_minutes - mentor.utc_offset_minutes)
    return max(0.0, 1 - gap / TIMEZONE_TOLERANCE_MINUTES)


def similarities(goal: Goal, mentee: Person, mentor: Person) -> tuple[float, ...]:
    return (
        skill_level_sum(goal, mentor) / (5 * len(goal.skills)),
        experience_fit(mentor.years - mentee.years),
        _share(industry_targets(goal, mentee), mentor.industries),
        _share(function_targets(goal, mentee), mentor.functions),
        background_fit(goal, mentee, mentor),
        _share(goal.styles, mentor.styles),
        1.0 if set(mentee.languages) & set(mentor.languages) else 0.0,
        availability_fit(mentee, mentor),
    )


def score_pair(goal: Goal, mentee: Person, mentor: Person) -> PairScore:
    weights = active_weights(goal, mentee)
    total_weight = weight_total(weights)
    sims = similarities(goal, mentee, mentor)
    parts = tuple(w * s for w, s in zip(weights, sims, strict=True))
    acc = parts[0]
    for part in parts[1:]:
        acc = acc + part
    return PairScore(acc / total_weight, tuple(p / total_weight for p in parts))


def asked_for(goal: Goal, mentee: Person) -> frozenset[str]:
    """The criteria the mentee made their own: a background preference, preferred styles, and
    the criteria they weighted highest. A proposal's reasons name these first."""
    weights = active_weights(goal, mentee)
    top = max(weights)
    asked = {name for name, weight in zip(CRITERIA, weights, strict=True) if weight == top > 0}
    if goal.background_preference in (BACKGROUND_SIMILAR, BACKGROUND_DIFFERENT):
        asked.add("background")
    if goal.styles:
        asked.add("style")
    return frozenset(asked)


def explain(goal: Goal, mentee: Person, mentor: Person, criterion: str) -> str:
    """A short, human reason for one criterion's contribution."""
    if criterion == "skills":
        held = [(mentor.skills[s], s) for s in goal.skills if s in mentor.skills]
        level, skill = max(held)
        extra = f" and {len(held) - 1} more of your goal skills" if len(held) > 1 else ""
        return f"{LEVEL_WORDS[level]} in {skill}, one of your goal skills{extra}"
    if criterion == "experience":
        return f"{mentor.years - mentee.years} years further along than you"
    if criterion == "industry":
        common = sorted(set(industry_targets(goal, mentee)) & set(mentor.industries))
        return f"worked in {', '.join(common[:3])}"
    if criterion == "function":
        common = sorted(set(function_targets(goal, mentee)) & set(mentor.functions))
        return f"works in {', '.join(common[:3])}"
    if criterion == "background":
        if goal.background_preference == BACKGROUND_DIFFERENT:
            return "brings a different perspective, as you asked"
        return "shares part of your background, as you asked"
    if criterion == "style":
        common = sorted(set(goal.styles) & set(mentor.styles))
        return f"mentors the way you prefer: {', '.join(common)}"
    if criterion == "language":
        common = sorted(set(mentee.languages) & set(mentor.languages))
        return f"speaks {', '.join(common[:3])}"
    if mentee.week and mentor.week:
        hours = (mentee.week & mentor.week).bit_count()
        return f"{hours} hours a week when you are both available"
    return "works in a nearby time zone"


def reasons(
    goal: Goal, mentee: Person, mentor: Person, score: PairScore, limit: int = MAX_REASONS
) -> list[tuple[str, float, str]]:
    """(criterion, contribution, sentence) for the criteria that count for this mentor: those
    the mentee asked for first (a wanted background or style, their highest weights), then by
    their share of the score. What an email, the read API and `explain` say."""
    asked = asked_for(goal, mentee)
    ranked = sorted(
        (c for c in zip(CRITERIA, score.contributions, strict=True) if c[1] > 0),
        key=lambda c: (c[0] not in asked, -c[1]),
    )
    return [
        (name, contribution, explain(goal, mentee, mentor, name))
        for name, contribution in ranked[:limit]
    ]


CRITERION_INDEX = {name: i for i, name in enumerate(CRITERIA)}
