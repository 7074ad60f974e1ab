"""What changed in a mentee's own goal, in the goal contract's field names (for the one line
a proposal email says about it)."""

from __future__ import annotations

from services.matching.domain.people import CRITERIA, Goal

# The goal's fields matching keeps, under their names in the GoalSet contract.
GOAL_FIELDS = (
    ("skills", "target_skills"),
    ("industries", "target_industries"),
    ("functions", "target_functions"),
    ("background_preference", "background_preference"),
    ("styles", "preferred_styles"),
    ("musts", "musts"),
)
# What the mentee wants from a mentor, as opposed to what the goal is about.
PREFERENCE_FIELDS = frozenset({"background_preference", "preferred_styles", "musts"})


def goal_changes(previous: Goal, new: Goal) -> list[str]:
    """The contract fields that differ (lists as sets: their order ranks nothing), and each
    changed weight as `criteria.<criterion>`."""
    changed = []
    for attribute, name in GOAL_FIELDS:
        before, after = getattr(previous, attribute), getattr(new, attribute)
        if attribute in ("skills", "industries", "functions", "styles", "musts"):
            before, after = set(before), set(after)
        if before != after:
            changed.append(name)
    changed.extend(
        f"criteria.{criterion}"
        for criterion, old, weight in zip(CRITERIA, previous.weights, new.weights, strict=True)
        if old != weight
    )
    return changed


def is_new_goal(previous: Goal | None, new: Goal) -> bool:
    return previous is None or previous.goal_id != new.goal_id


def only_preferences(changed: list[str]) -> bool:
    """Weights, styles, background preference or musts only: the mentee changed their
    preferences."""
    return bool(changed) and all(
        name in PREFERENCE_FIELDS or name.startswith("criteria.") for name in changed
    )
