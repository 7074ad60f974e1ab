"""What a mentee's own new goal version changed, as the cause of the proposal it brings.

A mentee who sets a new goal or changes what they ask of a mentor is waiting for an answer even
when the ranking comes out the same, so such a change is proposed (and emailed) whatever the
ranking does. Matching knows the goal fields that scoring uses; a new version that changes none
of them (the statement or the timeframe alone) is no change here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from services.matching.domain.people import CRITERIA, Goal
from shared.contracts.matches import ProposalCause

# The goal's scoring fields, by the GoalFields name an email can explain.
_Field = tuple[str, Callable[[Goal], Hashable]]
_GOAL_FIELDS: tuple[_Field, ...] = (
    ("target_skills", lambda g: frozenset(g.skills)),
    ("target_industries", lambda g: frozenset(g.industries)),
    ("target_functions", lambda g: frozenset(g.functions)),
)
_PREFERENCE_FIELDS: tuple[_Field, ...] = (
    ("background_preference", lambda g: g.background_preference),
    ("preferred_styles", lambda g: frozenset(g.styles)),
)


def goal_change(before: Goal | None, after: Goal) -> ProposalCause | None:
    """`goal_set` for a goal id the mentee did not have; `goal_changed` when the same goal names
    other skills, industries or functions (with their names in `changed`, and any preference
    that changed too); `preferences_changed` when only the background preference, the
    preferred styles or weights changed (weights as `criteria.<criterion>`); None otherwise."""
    if before is None or before.goal_id != after.goal_id:
        return ProposalCause(kind="goal_set")
    goal = [name for name, value in _GOAL_FIELDS if value(before) != value(after)]
    preferences = [name for name, value in _PREFERENCE_FIELDS if value(before) != value(after)]
    weights = [
        f"criteria.{name}"
        for name, old, new in zip(CRITERIA, before.weights, after.weights, strict=True)
        if old != new
    ]
    changed = goal + preferences + weights
    if not changed:
        return None
    return ProposalCause(kind="goal_changed" if goal else "preferences_changed", changed=changed)
