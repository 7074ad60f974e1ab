"""A first scoring function: goal skills against mentor skills and levels.

score = sum over goal skills the mentor has of (level / 5), divided by the number of goal
skills, so 1.0 means "expert in every skill the mentee wants to grow". The weighted,
diversified, incremental engine is the matching-engine issue's work.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts.goals import GoalSetPayload
from shared.contracts.matches import CriterionReason
from shared.contracts.profiles import ProfilePayload

LEVEL_WORDS = {1: "beginner", 2: "familiar", 3: "practitioner", 4: "senior", 5: "expert"}


@dataclass(frozen=True)
class ScoredMentor:
    mentor: ProfilePayload
    score: float
    reasons: tuple[CriterionReason, ...]


def eligible(mentee: ProfilePayload, mentor: ProfilePayload) -> bool:
    """Hard constraints (the tenant is already the same: read models are per tenant)."""
    return (
        mentor.is_mentor
        and mentor.opted_in
        and mentor.capacity > 0
        and mentor.user_id != mentee.user_id
        and mentee.manager_id != mentor.user_id
        and mentor.manager_id != mentee.user_id
    )


def score_mentor(goal: GoalSetPayload, mentor: ProfilePayload) -> ScoredMentor | None:
    levels = {skill.name: skill.level for skill in mentor.skills}
    reasons = []
    total = 0.0
    for skill in goal.target_skills:
        level = levels.get(skill)
        if level is None:
            continue
        contribution = level / 5 / len(goal.target_skills)
        total += contribution
        reasons.append(
            CriterionReason(
                criterion="skills",
                contribution=round(contribution, 4),
                explanation=f"{LEVEL_WORDS[level]} in {skill}, one of your goal skills",
            )
        )
    if total <= 0:
        return None
    return ScoredMentor(mentor, round(total, 6), tuple(reasons))


def rank_mentors(
    goal: GoalSetPayload, mentee: ProfilePayload, mentors: list[ProfilePayload], k: int
) -> list[ScoredMentor]:
    """Best `k` eligible mentors, by score, ties broken by mentor id for determinism."""
    scored = [
        s for m in mentors if eligible(mentee, m) and (s := score_mentor(goal, m)) is not None
    ]
    scored.sort(key=lambda s: (-s.score, s.mentor.user_id))
    return scored[:k]
