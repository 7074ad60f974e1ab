"""The integrators' read API (ADR 0011): a goal's current proposals, why a mentor is not
proposed, and what other weights would give. Matching computes the answers; this service
authenticates the API key and forwards the read with the key's tenant, so a caller can only
ever ask about its own tenant (another tenant's mentor or goal is a 404, as an unknown one)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.profile.adapters.matching_reads import MatchingReads, MatchingUnavailable
from services.profile.domain.musts import require_consistent_musts
from services.profile.entrypoints.http_profiles import UserIdPath
from services.profile.entrypoints.http_support import Correlation, Tenant, Uow
from shared.contracts.reads import (
    EXPLAIN_PATH,
    PAGE_SIZE_MAX,
    PREVIEW_PATH,
    PROPOSALS_PATH,
    Explanation,
    Preview,
    PreviewRequest,
    ProposalsPage,
)
from shared.contracts.types import IDENTIFIER_PATTERN
from shared.http.problems import problem

router = APIRouter(prefix="/v1", tags=["reads"])
GoalIdPath = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9._:-]+$", max_length=64, description="The goal's id.")
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such goal or mentor in this tenant (problem+json)."}
}
Model = TypeVar("Model", bound=BaseModel)


def matching_path(template: str, tenant: str, mentee_id: str, goal_id: str) -> str:
    return template.format(
        tenant_id=quote(tenant, safe=""),
        mentee_id=quote(mentee_id, safe=""),
        goal_id=quote(goal_id, safe=""),
    )


async def _forward(
    request: Request,
    model: type[Model],
    method: str,
    path: str,
    correlation: str,
    params: dict[str, str | int] | None = None,
    body: Any = None,
) -> Model | JSONResponse:
    reads: MatchingReads = request.app.state.matching_reads
    answer = await reads.ask(method, path, params, body, correlation)
    if answer.status != 200:  # matching's problem+json: no such goal or mentor, a bad cursor
        return JSONResponse(answer.body, answer.status, media_type="application/problem+json")
    return model.model_validate(answer.body)


@router.get(
    "/profiles/{user_id}/goals/{goal_id}/proposals",
    response_model=ProposalsPage,
    responses=NOT_FOUND,
)
async def get_proposals(
    request: Request,
    user_id: UserIdPath,
    goal_id: GoalIdPath,
    tenant: Tenant,
    correlation: Correlation,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ProposalsPage | JSONResponse:
    """The mentors last proposed for this goal, best first, each with every criterion's
    contribution to the score and the sentences the email gave. Cursor pages."""
    params: dict[str, str | int] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    path = matching_path(PROPOSALS_PATH, tenant, user_id, goal_id)
    return await _forward(request, ProposalsPage, "GET", path, correlation, params)


@router.get(
    "/profiles/{user_id}/goals/{goal_id}/explain",
    response_model=Explanation,
    responses=NOT_FOUND,
)
async def explain(
    request: Request,
    user_id: UserIdPath,
    goal_id: GoalIdPath,
    mentor_id: Annotated[str, Query(pattern=IDENTIFIER_PATTERN, description="The mentor.")],
    tenant: Tenant,
    correlation: Correlation,
) -> Explanation | JSONResponse:
    """Why this mentor is or is not proposed: the hard rule that excludes them, in words, or
    their score next to the last proposed mentor's, criterion by criterion."""
    path = matching_path(EXPLAIN_PATH, tenant, user_id, goal_id)
    params: dict[str, str | int] = {"mentor_id": mentor_id}
    return await _forward(request, Explanation, "GET", path, correlation, params)


@router.post(
    "/profiles/{user_id}/goals/{goal_id}/preview",
    response_model=Preview,
    responses=NOT_FOUND,
)
async def preview(
    request: Request,
    user_id: UserIdPath,
    goal_id: GoalIdPath,
    body: PreviewRequest,
    tenant: Tenant,
    correlation: Correlation,
    uow: Uow,
) -> Preview | JSONResponse:
    """The ranking these weights (and musts, when given) would give this goal now. Nothing is
    stored or published: the goal, its proposals and every other mentee's stay as they are.
    Musts that would contradict the goal so changed are refused as when the goal is set."""
    async with uow.transaction() as tx:
        goal = await tx.get_goal(tenant, user_id, goal_id)
    if goal is not None:  # an unknown goal is matching's 404, as for the other reads
        musts = goal.musts if body.musts is None else body.musts
        require_consistent_musts(
            goal.model_copy(update={"criteria": body.criteria, "musts": musts})
        )
    path = matching_path(PREVIEW_PATH, tenant, user_id, goal_id)
    payload = body.model_dump(mode="json")
    return await _forward(request, Preview, "POST", path, correlation, body=payload)


def install_reads(app: FastAPI, reads: MatchingReads) -> None:
    app.state.matching_reads = reads
    app.include_router(router)

    @app.exception_handler(MatchingUnavailable)
    async def _unavailable(_request: Request, exc: MatchingUnavailable) -> JSONResponse:
        response = problem(503, "The read API is unavailable; retry later", str(exc))
        response.headers["Retry-After"] = "5"
        return response
