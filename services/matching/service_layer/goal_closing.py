"""GoalClosed, as matching applies it (docs/adr/0012-several-goals-per-mentee.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.matching.domain.engine import TenantEngine
from services.matching.service_layer.causes import Told
from services.matching.service_layer.unit_of_work import MatchingTransaction
from shared.contracts.goals import GoalClosed

if TYPE_CHECKING:
    from services.matching.service_layer.handlers import Matching


async def close_goal(
    event: GoalClosed,
    partition: int,
    engine: TenantEngine,
    tx: MatchingTransaction,
    matching: Matching,
) -> Told | None:
    """The mentee closed one of their goals: its ranking is dropped, quietly (its stored
    proposal becomes empty; no email says so); their other goals stay as they are. A
    GoalClosed older than the goal held, or for a goal not held, changes nothing."""
    p = event.payload
    if not await tx.close_goal_if_newer(event.tenant_id, p.mentee_id, p.goal_id, p.version):
        return None
    engine.drop_goal(p.mentee_id, p.goal_id)
    matching.held.pop((event.tenant_id, p.mentee_id, p.goal_id), None)
    return Told(None, goal_id=p.goal_id)
