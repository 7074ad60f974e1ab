"""Widen a mentee's goal from the waiting-list email: preview (GET) and act (POST)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from services.profile.domain.commands import SetGoal, WidenGoal
from services.profile.domain.goal_clarity import VagueGoal
from services.profile.domain.model import ProfileNotFound
from services.profile.domain.widening import MENTORS_READ_PER_SKILL, skills_to_add, widened
from services.profile.service_layer.handlers import set_goal_in
from services.profile.service_layer.unit_of_work import (
    LinkResponse,
    ProfileQuery,
    ProfileTransaction,
    UnitOfWork,
)
from shared.contracts.goals import GoalFields, GoalSetPayload


class Outcome(enum.Enum):
    CAN_WIDEN = "can widen"  # preview: these skills would be added
    WIDENED = "widened"
    ALREADY = "already widened by this link"
    GOAL_CHANGED = "the goal is not the one the email was for"
    NOTHING_TO_ADD = "no skill to add"


@dataclass(frozen=True)
class Widening:
    outcome: Outcome
    skills: list[str] = field(default_factory=list)


async def preview_widening(cmd: WidenGoal, uow: UnitOfWork) -> Widening:
    async with uow.transaction() as tx:
        goal = await tx.get_goal(cmd.tenant_id, cmd.mentee_id, cmd.goal_id)
        return await _plan(tx, cmd, goal)


async def widen_goal(cmd: WidenGoal, uow: UnitOfWork) -> Widening:
    """Publish the goal with the added skills as its next version, once per link."""
    async with uow.transaction() as tx:
        goal = await tx.get_goal(cmd.tenant_id, cmd.mentee_id, cmd.goal_id, for_update=True)
        plan = await _plan(tx, cmd, goal)
        if plan.outcome is not Outcome.CAN_WIDEN or goal is None:
            return plan
        record = LinkResponse(cmd.tenant_id, cmd.mentee_id, "", cmd.proposal_id, "widen")
        if not await tx.first_link_response(record):
            return Widening(Outcome.ALREADY)
        fields = widened(_fields(goal), plan.skills)
        command = SetGoal(cmd.tenant_id, cmd.mentee_id, fields, cmd.correlation_id, goal.version)
        try:
            await set_goal_in(tx, command)
        except VagueGoal:  # stated before today's clarity rule: widening it is for the API
            return Widening(Outcome.NOTHING_TO_ADD)
        return Widening(Outcome.WIDENED, plan.skills)


async def _plan(tx: ProfileTransaction, cmd: WidenGoal, goal: GoalSetPayload | None) -> Widening:
    if await tx.get_profile(cmd.tenant_id, cmd.mentee_id) is None:
        raise ProfileNotFound()
    if goal is None or goal.goal_id != cmd.goal_id:
        return Widening(Outcome.GOAL_CHANGED)
    mentors = []
    for skill in goal.target_skills:
        query = ProfileQuery(limit=MENTORS_READ_PER_SKILL, role="mentor", skill=skill)
        mentors += await tx.list_profiles(cmd.tenant_id, query)
    skills = skills_to_add(goal, cmd.mentee_id, mentors)
    return Widening(Outcome.CAN_WIDEN if skills else Outcome.NOTHING_TO_ADD, skills)


def _fields(goal: GoalSetPayload) -> GoalFields:
    return GoalFields.model_validate(goal.model_dump(include=set(GoalFields.model_fields)))
