"""The integrator-facing REST API. Thin: authenticate, validate, hand off to a handler."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request, Response

from services.profile.adapters.api_keys import ApiKeys
from services.profile.domain.commands import SetGoal, UpsertProfile
from services.profile.domain.model import NotAMentee, VersionConflict
from services.profile.service_layer import handlers
from services.profile.service_layer.unit_of_work import UnitOfWork
from shared.contracts.goals import GoalFields, GoalSetPayload
from shared.contracts.profiles import ProfileFields, ProfilePayload
from shared.contracts.types import IDENTIFIER_PATTERN
from shared.logs import correlation_id_var

UserIdPath = Annotated[
    str, Path(pattern=IDENTIFIER_PATTERN, description="The integrator's user id.")
]
_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _uow(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.uow
    return uow


async def current_tenant(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> str:
    """The tenant of the caller's API key; 401 for a missing, unknown or revoked key."""
    scheme, _, token = (authorization or "").partition(" ")
    keys: ApiKeys = request.app.state.api_keys
    tenant = await keys.tenant_of(token.strip()) if scheme.lower() == "bearer" else None
    if tenant is None:
        raise HTTPException(
            401, "Missing or invalid API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return tenant


def correlation_id(
    response: Response,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> str:
    value = x_correlation_id if x_correlation_id and _CORRELATION.match(x_correlation_id) else None
    value = value or f"req-{uuid.uuid4().hex[:16]}"
    correlation_id_var.set(value)
    response.headers["X-Correlation-Id"] = value
    return value


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise HTTPException(412, "If-Match must be an ETag returned by this API") from None


Tenant = Annotated[str, Depends(current_tenant)]
Correlation = Annotated[str, Depends(correlation_id)]
Uow = Annotated[UnitOfWork, Depends(_uow)]

router = APIRouter(prefix="/v1", tags=["profiles"])


@router.put("/profiles/{user_id}", response_model=ProfilePayload)
async def put_profile(
    user_id: UserIdPath,
    body: ProfileFields,
    tenant: Tenant,
    correlation: Correlation,
    uow: Uow,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> ProfilePayload:
    """Create or replace a mentor's or mentee's profile; publishes `ProfileUpdated`."""
    command = UpsertProfile(tenant, user_id, body, _expected_version(if_match), correlation)
    try:
        profile = await handlers.upsert_profile(command, uow)
    except VersionConflict as exc:
        raise HTTPException(412, f"Profile changed meanwhile: {exc}") from None
    response.headers["ETag"] = f'"{profile.version}"'
    return profile


@router.get("/profiles/{user_id}", response_model=ProfilePayload)
async def get_profile(
    user_id: UserIdPath, tenant: Tenant, uow: Uow, response: Response
) -> ProfilePayload:
    async with uow.transaction() as tx:
        profile = await tx.get_profile(tenant, user_id)
    if profile is None:
        raise HTTPException(404, "No such profile")
    response.headers["ETag"] = f'"{profile.version}"'
    return profile


@router.put("/profiles/{user_id}/goal", response_model=GoalSetPayload)
async def put_goal(
    user_id: UserIdPath, body: GoalFields, tenant: Tenant, correlation: Correlation, uow: Uow
) -> GoalSetPayload:
    """Set the mentee's goal; publishes `GoalSet`, which makes matching rank mentors for it."""
    try:
        return await handlers.set_goal(SetGoal(tenant, user_id, body, correlation), uow)
    except NotAMentee:
        raise HTTPException(404, "No such mentee") from None


@router.get("/profiles/{user_id}/goal", response_model=GoalSetPayload)
async def get_goal(user_id: UserIdPath, tenant: Tenant, uow: Uow) -> GoalSetPayload:
    async with uow.transaction() as tx:
        goal = await tx.get_goal(tenant, user_id)
    if goal is None:
        raise HTTPException(404, "No goal set")
    return goal
