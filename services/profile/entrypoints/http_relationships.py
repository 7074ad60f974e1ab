"""Relationships for integrators: list them (tenant-scoped, cursor pages) and end one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.profile.domain.commands import EndRelationship
from services.profile.domain.relationships import STATES, Answer, Ending, Relationship, State
from services.profile.entrypoints.http_profiles import MAX_PAGE
from services.profile.entrypoints.http_support import Correlation, Tenant, Uow
from services.profile.service_layer.lifecycle import (
    Lifecycle,
    UnknownRelationship,
    end_relationship,
)
from services.profile.service_layer.relationship_port import RelationshipQuery
from shared.clock import Clock
from shared.contracts.lifecycle import EndingReason
from shared.contracts.types import IDENTIFIER_PATTERN
from shared.http.cursors import decode_cursor, encode_cursor, not_a_cursor
from shared.http.problems import problem

router = APIRouter(prefix="/v1", tags=["relationships"])
UserFilter = Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN, max_length=128)]


class RelationshipView(BaseModel):
    """A relationship from the mentee's request to its end."""

    request_id: UUID = Field(description="Names the relationship in every lifecycle event.")
    mentee_id: str
    mentor_id: str
    goal_id: str
    proposal_id: UUID | None = Field(description="The proposal the request was made from.")
    state: State = Field(examples=["active"])
    version: int = Field(description="Raised by every lifecycle event of this relationship.")
    requested_at: datetime
    deadline: datetime = Field(description="Until when the mentor may answer the request.")
    reminded_at: datetime | None
    started_at: datetime | None
    fit_check_at: datetime | None
    ended_at: datetime | None
    ended_by: Literal["mentee", "mentor", "integrator", "system"] | None
    reason: EndingReason | None
    rating: int | None
    never_again: bool

    @classmethod
    def of(cls, r: Relationship) -> RelationshipView:
        fields = set(cls.model_fields)
        return cls(**{name: getattr(r, name) for name in fields})


class RelationshipPage(BaseModel):
    items: list[RelationshipView]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class EndBody(BaseModel):
    """How the relationship ended, as the integrator's own screens asked it."""

    model_config = ConfigDict(extra="forbid")

    on_behalf_of: Literal["mentee", "mentor"] | None = Field(
        default=None,
        description="Whose decision this was. `mentee`: the reason feeds the learning rule "
        "(docs/lifecycle.md), as when the mentee ends it through an email link.",
    )
    reason: EndingReason | None = Field(default=None, examples=["style"])
    rating: int | None = Field(default=None, ge=1, le=5)
    never_again: bool = Field(default=False, description="Never propose this pair again.")


def _encode(r: Relationship) -> str:
    return encode_cursor({"at": r.requested_at.isoformat(), "id": str(r.request_id)})


def _decode(cursor: str | None) -> tuple[datetime, UUID] | None:
    if cursor is None:
        return None
    after = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(after["at"]), UUID(after["id"])
    except (ValueError, KeyError, TypeError):
        raise not_a_cursor(cursor) from None


@router.get("/relationships", response_model=RelationshipPage)
async def list_relationships(
    tenant: Tenant,
    uow: Uow,
    mentee_id: UserFilter = None,
    mentor_id: UserFilter = None,
    state: Annotated[Literal[STATES] | None, Query()] = None,  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> RelationshipPage:
    """A page of the tenant's relationships, oldest request first, optionally filtered."""
    query = RelationshipQuery(limit + 1, mentee_id, mentor_id, state, _decode(cursor))
    async with uow.transaction() as tx:
        found = await tx.relationships.page(tenant, query)
    items = found[:limit]
    more = len(found) > limit
    return RelationshipPage(
        items=[RelationshipView.of(r) for r in items],
        next_cursor=_encode(items[-1]) if more else None,
    )


@router.post(
    "/relationships/{request_id}/end",
    response_model=RelationshipView,
    responses={404: {"description": "No such relationship"}, 409: {"description": "Not active"}},
)
async def end(
    request_id: UUID, body: EndBody, tenant: Tenant, correlation: Correlation, request: Request
) -> RelationshipView | JSONResponse:
    """End an active relationship: publishes `MatchEnded` (the mentor's seat is free) and,
    on the mentee's behalf with a reason, `PreferencesAdjusted`. Ending one that has ended
    already (both sides at once, or a retry) changes nothing and answers 409 with its state."""
    life: Lifecycle = request.app.state.lifecycle
    clock: Clock = request.app.state.clock
    ending = Ending("integrator", body.reason, body.rating, body.never_again)
    command = EndRelationship(
        tenant, request_id, ending, None, body.on_behalf_of == "mentee", correlation
    )
    try:
        done = await end_relationship(command, life, clock.now())
    except UnknownRelationship:
        return problem(404, "No such relationship")
    if done.move.answer is not Answer.DONE:
        state = done.move.after.state
        return problem(409, "Not active", f"the relationship is {state}", state=state)
    return RelationshipView.of(done.move.after)
