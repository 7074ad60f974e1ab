"""Goal versions count per mentee across all their goals, open or closed: one order covers every
goal event of a mentee on the goals topic (GoalSet, PreferencesAdjusted, GoalClosed), and each
goal's own versions still only grow (docs/adr/0012-several-goals-per-mentee.md)."""

from __future__ import annotations

from services.profile.service_layer.unit_of_work import ProfileTransaction, StoredGoal
from shared.contracts.goals import GoalSetPayload


def mentee_version(held: list[StoredGoal]) -> int:
    """The highest version any of the mentee's goals reached."""
    return max((g.goal.version for g in held), default=0)


def open_goal(held: list[StoredGoal], goal_id: str) -> GoalSetPayload | None:
    return next((g.goal for g in held if g.goal.goal_id == goal_id and g.closed is None), None)


async def next_version(tx: ProfileTransaction, tenant_id: str, mentee_id: str) -> int:
    """The version the mentee's next goal event carries (the caller holds the mentee's lock)."""
    return mentee_version(await tx.goals_of(tenant_id, mentee_id)) + 1
