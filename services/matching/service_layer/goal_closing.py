"""GoalClosed, as matching applies it (docs/adr/0012-several-goals-per-mentee.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.matching.domain.engine import TenantEngine
from services.matching.service_layer.causes import QUIET, Told
from services.matching.service_layer.lifecycle import apply_blocks
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
    """The mentee closed the goal matching holds for them: its ranking is dropped, quietly (the
    stored proposal becomes empty; no email says so). A GoalClosed for another goal, or older
    than the goal held, changes nothing."""
    p = event.payload
    if not await tx.close_goal_if_newer(event.tenant_id, p.mentee_id, p.goal_id, p.version):
        return None
    engine.drop_goal(p.mentee_id)
    # What the mentee's relationships block depends on the goal: with none, as at a restore.
    await apply_blocks(tx, engine, event.tenant_id, p.mentee_id, partition)
    matching.held.pop((event.tenant_id, p.mentee_id), None)
    return QUIET
