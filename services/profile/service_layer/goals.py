"""A mentee's goals: set one (with the goal clarity rule and the tenant's limit), close one
(versions: goal_versions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.profile.domain.commands import CloseGoal, SetGoal
from services.profile.domain.goal_clarity import GoalAdvice, require_clear_goal
from services.profile.domain.model import GoalNotFound, ProfileNotFound, check_version, next_goal
from services.profile.domain.musts import require_consistent_musts
from services.profile.service_layer.goal_versions import mentee_version, open_goal
from services.profile.service_layer.lifecycle import withdraw_requests_for_goal
from services.profile.service_layer.unit_of_work import ProfileTransaction, UnitOfWork
from shared.contracts.goals import GoalClosed, GoalClosedPayload, GoalSet, GoalSetPayload
from shared.contracts.topics import GOALS

DEFAULT_MAX_OPEN_GOALS = 3


@dataclass(frozen=True)
class GoalResult:
    goal: GoalSetPayload
    advice: tuple[GoalAdvice, ...]


async def set_goal_in(tx: ProfileTransaction, cmd: SetGoal) -> GoalResult:
    """Set goal `cmd.fields.goal_id`: a new one counts against the tenant's limit."""
    advice = require_clear_goal(cmd.fields)
    require_consistent_musts(cmd.fields)
    mentee = await tx.get_profile(cmd.tenant_id, cmd.mentee_id, for_update=True)  # the lock
    held, limit = await tx.goals_and_limit(cmd.tenant_id, cmd.mentee_id)  # after the lock
    current = open_goal(held, cmd.fields.goal_id)
    goal = next_goal(
        mentee,
        cmd.fields,
        current,
        cmd.expected_version,
        mentee_version=mentee_version(held),
        open_goals=sum(g.closed is None for g in held),
        max_open_goals=limit or DEFAULT_MAX_OPEN_GOALS,
    )
    if goal is not current:
        await tx.save_goal(cmd.tenant_id, goal)
        event = GoalSet(
            tenant_id=cmd.tenant_id,
            key=cmd.mentee_id,
            schema_version=2,
            payload=goal,
            correlation_id=cmd.correlation_id,
        )
        await tx.publish(GOALS, event)
    return GoalResult(goal, advice)


async def goals_list(uow: UnitOfWork, tenant_id: str, mentee_id: str) -> list[GoalSetPayload]:
    """The mentee's open goals, by goal id (404 for a person not in the tenant)."""
    async with uow.transaction() as tx:
        if await tx.get_profile(tenant_id, mentee_id) is None:
            raise ProfileNotFound()
        return [g.goal for g in await tx.goals_of(tenant_id, mentee_id) if g.closed is None]


async def set_goal(cmd: SetGoal, uow: UnitOfWork) -> GoalSetPayload:
    async with uow.transaction() as tx:
        return (await set_goal_in(tx, cmd)).goal


async def close_goal_in(tx: ProfileTransaction, cmd: CloseGoal, now: datetime) -> GoalClosedPayload:
    """Close an open goal: GoalClosed, and the requests for it still waiting for a mentor's
    answer are withdrawn (their seats free at once); relationships already active go on."""
    if await tx.get_profile(cmd.tenant_id, cmd.mentee_id, for_update=True) is None:
        raise ProfileNotFound()
    held = await tx.goals_of(cmd.tenant_id, cmd.mentee_id)
    current = open_goal(held, cmd.goal_id)
    if current is None:
        raise GoalNotFound()
    check_version(cmd.expected_version, current.version)
    # The one lock order: the mentors of its waiting requests before the goal's row, as a
    # request locks its mentor, then the goal (lifecycle.request_intro).
    waiting = await tx.relationships.open_for_goal(cmd.tenant_id, cmd.mentee_id, cmd.goal_id)
    for mentor_id in sorted({r.mentor_id for r in waiting if r.state == "requested"}):
        await tx.get_profile(cmd.tenant_id, mentor_id, for_update=True)
    payload = GoalClosedPayload(
        mentee_id=cmd.mentee_id,
        goal_id=cmd.goal_id,
        version=mentee_version(held) + 1,
        reason=cmd.reason,
    )
    await tx.close_goal(cmd.tenant_id, cmd.mentee_id, cmd.goal_id, payload.version, cmd.reason)
    event = GoalClosed(
        tenant_id=cmd.tenant_id,
        key=cmd.mentee_id,
        payload=payload,
        correlation_id=cmd.correlation_id,
    )
    await tx.publish(GOALS, event)
    await withdraw_requests_for_goal(
        tx, cmd.tenant_id, cmd.mentee_id, cmd.goal_id, now, cmd.correlation_id
    )
    return payload
