"""Command handlers: decide, store and announce, all in one transaction."""

from __future__ import annotations

from services.profile.domain.commands import SetGoal, UpsertProfile
from services.profile.domain.model import next_goal, next_profile
from services.profile.service_layer.unit_of_work import UnitOfWork
from shared.contracts.goals import GoalSet, GoalSetPayload
from shared.contracts.profiles import ProfilePayload, ProfileUpdated
from shared.contracts.topics import GOALS, PROFILES


async def upsert_profile(cmd: UpsertProfile, uow: UnitOfWork) -> ProfilePayload:
    async with uow.transaction() as tx:
        current = await tx.get_profile(cmd.tenant_id, cmd.user_id, for_update=True)
        profile = next_profile(
            cmd.user_id, cmd.fields, current.version if current else None, cmd.expected_version
        )
        await tx.save_profile(cmd.tenant_id, profile)
        await tx.publish(
            PROFILES,
            ProfileUpdated(
                tenant_id=cmd.tenant_id,
                key=cmd.user_id,
                payload=profile,
                correlation_id=cmd.correlation_id,
            ),
        )
    return profile


async def set_goal(cmd: SetGoal, uow: UnitOfWork) -> GoalSetPayload:
    async with uow.transaction() as tx:
        mentee = await tx.get_profile(cmd.tenant_id, cmd.mentee_id, for_update=True)
        current = await tx.get_goal(cmd.tenant_id, cmd.mentee_id, for_update=True)
        goal = next_goal(mentee, cmd.fields, current.version if current else None)
        await tx.save_goal(cmd.tenant_id, goal)
        await tx.publish(
            GOALS,
            GoalSet(
                tenant_id=cmd.tenant_id,
                key=cmd.mentee_id,
                payload=goal,
                correlation_id=cmd.correlation_id,
            ),
        )
    return goal
