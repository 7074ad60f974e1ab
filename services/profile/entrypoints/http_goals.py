"""A mentee's goals: set (with the goal clarity rule), read, list and close.

`/goals/{goal_id}` names one of the mentee's goals (up to the tenant's `max_active_goals`
open at once); the older `/goal` routes read and write the goal `default`
(docs/adr/0012-several-goals-per-mentee.md). A goal read says whether it is on the waiting
list (`waiting`, asked of matching: entrypoints/goal_waiting.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from services.profile.domain.commands import CloseGoal, SetGoal
from services.profile.entrypoints.goal_waiting import goal_waiting, goals_waiting
from services.profile.entrypoints.http_profiles import UserIdPath
from services.profile.entrypoints.http_support import Correlation, Tenant, Uow, WriteContext
from services.profile.service_layer import goals
from services.profile.service_layer.unit_of_work import ProfileTransaction, StoredResponse
from shared.contracts.goals import (
    DEFAULT_GOAL_ID,
    GOAL_ID_PATTERN,
    GoalClosedPayload,
    GoalFields,
    GoalSetPayload,
)

router = APIRouter(prefix="/v1", tags=["goals"])

GoalIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=GOAL_ID_PATTERN, examples=["platform-lead"])
]


class GoalWarning(BaseModel):
    term: str = Field(description="The loaded word this is about; empty for general advice.")
    suggestion: str


class GoalResponse(GoalSetPayload):
    warnings: list[GoalWarning] = Field(
        default_factory=list,
        description="Accepted, but these words leave room for ambiguity: what to make specific.",
    )


WAITING = (
    "Whether the goal is on the waiting list. true: matching's current proposal for it names "
    "nobody (nobody suitable, musts nobody meets, or everyone declined); the mentee is sent the "
    "waiting-list email and the next proposal follows when a suitable mentor appears. false: "
    "mentors were proposed, or matching has not ranked the goal yet. null: matching could not "
    "be asked just now (unknown; the goal itself is read as usual)."
)


class GoalView(GoalSetPayload):
    waiting: bool | None = Field(description=WAITING, examples=[False])


class GoalList(BaseModel):
    goals: list[GoalView] = Field(description="The mentee's open goals, by goal id.")


async def _put(user_id: str, body: GoalFields, write: WriteContext, what: str) -> Response:
    command = SetGoal(write.tenant, user_id, body, write.correlation, write.expected_version)

    async def act(tx: ProfileTransaction) -> StoredResponse:
        result = await goals.set_goal_in(tx, command)
        warnings = [GoalWarning(term=a.term, suggestion=a.suggestion) for a in result.advice]
        response = GoalResponse(**result.goal.model_dump(), warnings=warnings)
        return StoredResponse(200, response.model_dump_json(), str(result.goal.version))

    return await write.answer_once(user_id, what, body, act)


async def _get(
    request: Request, uow: Uow, read: tuple[str, str, str, str], response: Response
) -> GoalView:
    """`read`: the tenant, the mentee, the goal and the request's correlation id."""
    tenant, user_id, goal_id, correlation = read
    async with uow.transaction() as tx:
        goal = await tx.get_goal(tenant, user_id, goal_id)
    if goal is None:
        raise HTTPException(404, "No goal set")
    response.headers["ETag"] = f'"{goal.version}"'
    waiting = await goal_waiting(request, tenant, user_id, goal_id, correlation)
    return GoalView(**goal.model_dump(), waiting=waiting)


@router.put("/profiles/{user_id}/goals/{goal_id}", response_model=GoalResponse)
async def put_goal_by_id(
    user_id: UserIdPath, goal_id: GoalIdPath, body: GoalFields, write: WriteContext
) -> Response:
    """Set one of the mentee's goals; publishes `GoalSet` (v2), which makes matching rank
    mentors for that goal alone. A goal id the mentee does not hold open yet opens a new goal:
    422 when the mentee already holds the tenant's `max_active_goals` (default 3).

    The body's `goal_id` may be left out; given, it must be the path's. An unknown `horizon`,
    like any invalid field, is a 422 naming it. A statement that names nothing concrete is
    refused (422, with suggestions); loaded words come back as `warnings`.
    """
    if "goal_id" in body.model_fields_set and body.goal_id != goal_id:
        raise RequestValidationError(
            [{"loc": ("body", "goal_id"), "msg": "must be the path's goal id", "type": "value"}]
        )
    fields = body.model_copy(update={"goal_id": goal_id})
    return await _put(user_id, fields, write, f"PUT goal {goal_id}")


@router.get("/profiles/{user_id}/goals/{goal_id}", response_model=GoalView)
async def get_goal_by_id(
    request: Request,
    user_id: UserIdPath,
    goal_id: GoalIdPath,
    tenant: Tenant,
    uow: Uow,
    response: Response,
    correlation: Correlation,
) -> GoalView:
    """One open goal, with its version as ETag (404 once it is closed), and whether it is on
    the waiting list (`waiting`; null when matching cannot be asked)."""
    return await _get(request, uow, (tenant, user_id, goal_id, correlation), response)


@router.get("/profiles/{user_id}/goals", response_model=GoalList)
async def list_goals(
    request: Request, user_id: UserIdPath, tenant: Tenant, uow: Uow, correlation: Correlation
) -> GoalList:
    """The mentee's open goals (closed ones are not listed), each with `waiting`."""
    held = await goals.goals_list(uow, tenant, user_id)
    waiting = await goals_waiting(request, tenant, user_id, [g.goal_id for g in held], correlation)
    return GoalList(
        goals=[GoalView(**g.model_dump(), waiting=w) for g, w in zip(held, waiting, strict=True)]
    )


@router.delete("/profiles/{user_id}/goals/{goal_id}", response_model=GoalClosedPayload)
async def close_goal(user_id: UserIdPath, goal_id: GoalIdPath, write: WriteContext) -> Response:
    """Close the goal as `abandoned`: publishes `GoalClosed`, and matching drops its ranking.
    The mentee's requests for this goal still waiting for a mentor's answer are withdrawn
    (their seats free at once, as with "Not for me"); relationships already active go on.
    The same goal id set again later opens it again."""
    command = CloseGoal(
        write.tenant, user_id, goal_id, "abandoned", write.correlation, write.expected_version
    )

    async def act(tx: ProfileTransaction) -> StoredResponse:
        closed = await goals.close_goal_in(tx, command, datetime.now(UTC))
        return StoredResponse(200, closed.model_dump_json(), str(closed.version))

    return await write.answer_once(user_id, f"DELETE goal {goal_id}", GoalList(goals=[]), act)


@router.put("/profiles/{user_id}/goal", response_model=GoalResponse)
async def put_goal(user_id: UserIdPath, body: GoalFields, write: WriteContext) -> Response:
    """Set the mentee's `default` goal (the route from before several goals; the body's
    `goal_id`, if any, is not used): the same as `PUT .../goals/default`."""
    fields = body.model_copy(update={"goal_id": DEFAULT_GOAL_ID})
    return await _put(user_id, fields, write, "PUT goal")


@router.get("/profiles/{user_id}/goal", response_model=GoalView)
async def get_goal(
    request: Request,
    user_id: UserIdPath,
    tenant: Tenant,
    uow: Uow,
    response: Response,
    correlation: Correlation,
) -> GoalView:
    """The mentee's `default` goal: the same as `GET .../goals/default`."""
    return await _get(request, uow, (tenant, user_id, DEFAULT_GOAL_ID, correlation), response)
