"""Widening a goal's criteria when no mentor is left to suggest (docs/email.md, "Widen").

A mentor is suggested only if they have one of the goal's skills; every other criterion only
orders mentors. So widening adds skills: those that the mentors who have one of the goal's
skills most often have as well, which the goal does not name yet. Everything else about the
goal stays as it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from shared.contracts.goals import GoalFields
from shared.contracts.profiles import ProfilePayload

MAX_ADDED = 3
MAX_GOAL_SKILLS = 20  # GoalFields.target_skills
MENTORS_READ_PER_SKILL = 200


def skills_to_add(goal: GoalFields, mentee_id: str, mentors: Iterable[ProfilePayload]) -> list[str]:
    """Up to MAX_ADDED skills, most often held first, ties by name, never past the goal's cap."""
    named = set(goal.target_skills)
    held: Counter[str] = Counter()
    seen: set[str] = set()
    for mentor in mentors:
        if mentor.user_id in seen or mentor.user_id == mentee_id or not mentor.opted_in:
            continue
        seen.add(mentor.user_id)
        skills = {s.name for s in mentor.skills}
        if skills & named:
            held.update(skills - named)
    room = max(0, min(MAX_ADDED, MAX_GOAL_SKILLS - len(named)))
    return sorted(held, key=lambda skill: (-held[skill], skill))[:room]


def widened(goal: GoalFields, skills: list[str]) -> GoalFields:
    """The same goal with `skills` added after its own."""
    return goal.model_copy(update={"target_skills": [*goal.target_skills, *skills]})
