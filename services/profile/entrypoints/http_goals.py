"""A mentee's goal: set (with the goal clarity rule) and read."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from services.profile.domain.commands import SetGoal
from services.profile.entrypoints.http_profiles import UserIdPath
from services.profile.entrypoints.http_support import Tenant, Uow, WriteContext
from services.profile.service_layer import handlers
from services.profile.service_layer.unit_of_work import ProfileTransaction, StoredResponse
from shared.contracts.goals import GoalFields, GoalSetPayload

router = APIRouter(prefix="/v1", tags=["goals"])


class GoalWarning(BaseModel):
    term: str = Field(description="The loaded word this is about; empty for general advice.")
    suggestion: str


class GoalResponse(GoalSetPayload):
    warnings: list[GoalWarning] = Field(
        default_factory=list,
        description="Accepted, but these words leave room for ambiguity: what to make specific.",
    )


@router.put("/profiles/{user_id}/goal", response_model=GoalResponse)
async def put_goal(user_id: UserIdPath, body: GoalFields, write: WriteContext) -> Response:
    """Set the mentee's goal; publishes `GoalSet`, which makes matching rank mentors for it.

    A statement that names nothing concrete is refused (422, with suggestions); loaded words in
    an otherwise concrete statement come back as `warnings`.
    """
    command = SetGoal(write.tenant, user_id, body, write.correlation, write.expected_version)

    async def act(tx: ProfileTransaction) -> StoredResponse:
        result = await handlers.set_goal_in(tx, command)
        warnings = [GoalWarning(term=a.term, suggestion=a.suggestion) for a in result.advice]
        response = GoalResponse(**result.goal.model_dump(), warnings=warnings)
        return StoredResponse(200, response.model_dump_json(), str(result.goal.version))

    return await write.answer_once(user_id, "PUT goal", body, act)


@router.get("/profiles/{user_id}/goal", response_model=GoalSetPayload)
async def get_goal(
    user_id: UserIdPath, tenant: Tenant, uow: Uow, response: Response
) -> GoalSetPayload:
    async with uow.transaction() as tx:
        goal = await tx.get_goal(tenant, user_id)
    if goal is None:
        raise HTTPException(404, "No goal set")
    response.headers["ETag"] = f'"{goal.version}"'
    return goal
