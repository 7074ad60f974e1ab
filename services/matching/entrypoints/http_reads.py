"""Matching's internal read routes (ADR 0011), for the profile service only: it authenticates
the integrator's API key and forwards the read here with the key's tenant. They are not
published outside the cluster and answer only the bearer of MATCHING_READ_TOKEN."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse

from services.matching.domain.people import CRITERIA, shared_musts
from services.matching.service_layer.reads import NotFound, Reads
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
from shared.http.bearer import bearer_only
from shared.http.cursors import decode_cursor, encode_cursor, not_a_cursor
from shared.http.problems import problem

UserId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN)]
TenantId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN)]
GoalId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]+$", max_length=64)]


def _after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    after = decode_cursor(cursor).get("rank")
    if isinstance(after, int) and 0 < after <= 10_000:
        return after
    raise not_a_cursor(cursor)


def reads_router(reads: Reads, token: str | None) -> APIRouter:
    router = APIRouter(
        tags=["internal reads"], dependencies=[Depends(bearer_only(token, "read token"))]
    )

    @router.get(PROPOSALS_PATH, response_model=ProposalsPage)
    async def proposals(
        tenant_id: TenantId,
        mentee_id: UserId,
        goal_id: GoalId,
        limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 20,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> ProposalsPage:
        page = await reads.proposals(tenant_id, mentee_id, goal_id, _after(cursor), limit)
        if page.next_cursor is None:
            return page
        rank = int(page.next_cursor)
        return page.model_copy(update={"next_cursor": encode_cursor({"rank": rank})})

    @router.get(EXPLAIN_PATH, response_model=Explanation)
    async def explain(
        tenant_id: TenantId,
        mentee_id: UserId,
        goal_id: GoalId,
        mentor_id: Annotated[str, Query(pattern=IDENTIFIER_PATTERN)],
    ) -> Explanation:
        return await reads.explain(tenant_id, mentee_id, goal_id, mentor_id)

    @router.post(PREVIEW_PATH, response_model=Preview)
    async def preview(
        tenant_id: TenantId, mentee_id: UserId, goal_id: GoalId, body: PreviewRequest
    ) -> Preview:
        weights = tuple(float(getattr(body.criteria, name)) for name in CRITERIA)
        musts = None if body.musts is None else shared_musts(body.musts.pairs())
        return await reads.preview(tenant_id, mentee_id, goal_id, weights, musts)

    return router


def install_reads(app: FastAPI, reads: Reads, token: str | None) -> None:
    app.include_router(reads_router(reads, token))

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, str(exc))
