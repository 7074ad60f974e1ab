"""The learning rule applied: an ending's or a decline's reason becomes PreferencesAdjusted on
the mentee's goal, and an undo link restores what it changed."""

from __future__ import annotations

from typing import Protocol

from services.profile.domain import learning
from services.profile.domain.commands import UndoAdjustment
from services.profile.domain.learning import Learned, Trigger
from services.profile.service_layer.goal_versions import next_version
from services.profile.service_layer.unit_of_work import ProfileTransaction, UnitOfWork
from shared.contracts.goals import GoalSetPayload
from shared.contracts.lifecycle import EndingReason
from shared.contracts.preferences import PreferencesAdjusted, PreferencesAdjustedPayload
from shared.contracts.topics import GOALS


class Pair(Protocol):
    """A mentee and a mentor, about one goal: a relationship or a declined proposal."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def mentee_id(self) -> str: ...
    @property
    def mentor_id(self) -> str: ...
    @property
    def goal_id(self) -> str: ...


async def _publish(
    tx: ProfileTransaction,
    tenant_id: str,
    goal: GoalSetPayload,
    learned: Learned,
    correlation_id: str | None,
) -> GoalSetPayload:
    version = await next_version(tx, tenant_id, goal.mentee_id)
    adjusted = learned.after.applied_to(goal).model_copy(update={"version": version})
    await tx.save_goal(tenant_id, adjusted)
    payload = PreferencesAdjustedPayload(**adjusted.model_dump(), adjustment=learned.adjustment)
    event = PreferencesAdjusted(
        tenant_id=tenant_id, key=goal.mentee_id, payload=payload, correlation_id=correlation_id
    )
    await tx.publish(GOALS, event)
    return adjusted


async def learn_from(
    tx: ProfileTransaction,
    pair: Pair,
    reason: EndingReason | None,
    trigger: Trigger,
    correlation_id: str | None,
) -> Learned | None:
    """Adjust the mentee's goal by the rule, when the goal is still the one this was about."""
    goal = await tx.get_goal(pair.tenant_id, pair.mentee_id, pair.goal_id, for_update=True)
    if goal is None:
        return None
    mentor = await tx.get_profile(pair.tenant_id, pair.mentor_id)
    styles = list(mentor.mentoring_styles) if mentor else []
    learned = learning.learn(goal, reason, trigger, pair.mentor_id, styles)
    if learned is None:
        return None
    await tx.relationships.save_adjustment(
        pair.tenant_id,
        pair.mentee_id,
        goal.goal_id,
        pair.mentor_id,
        learned.adjustment.adjustment_id,
        learned.before,
    )
    await _publish(tx, pair.tenant_id, goal, learned, correlation_id)
    return learned


class UnknownAdjustment(Exception):  # noqa: N818
    """No such adjustment for this mentee."""


async def undo_adjustment(cmd: UndoAdjustment, uow: UnitOfWork) -> bool:
    """Restore the weights and styles from before the adjustment (PreferencesAdjusted with
    trigger `undo`). False when there is nothing to undo: done before, or the goal changed."""
    async with uow.transaction() as tx:
        stored = await tx.relationships.get_adjustment(
            cmd.tenant_id, cmd.adjustment_id, for_update=True
        )
        if stored is None or stored.mentee_id != cmd.mentee_id:
            raise UnknownAdjustment()
        goal = await tx.get_goal(cmd.tenant_id, cmd.mentee_id, stored.goal_id, for_update=True)
        if stored.undone or goal is None:
            return False
        await tx.relationships.mark_undone(cmd.tenant_id, cmd.adjustment_id)
        learned = learning.undo(goal, stored.before, cmd.adjustment_id)
        if learned is not None:
            await _publish(tx, cmd.tenant_id, goal, learned, cmd.correlation_id)
        return True
