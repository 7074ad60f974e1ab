"""Profiles: create or replace, read, delete (erasure) and list. Thin: validate, hand off."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from services.profile.domain.commands import DeleteProfile, UpsertProfile
from services.profile.domain.model import ProfileNotFound
from services.profile.entrypoints.http_support import Tenant, Uow, WriteContext
from services.profile.service_layer import handlers
from services.profile.service_layer.unit_of_work import (
    ProfileQuery,
    ProfileTransaction,
    StoredResponse,
)
from shared.contracts.profiles import ProfileFields, ProfilePayload
from shared.contracts.types import IDENTIFIER_PATTERN, NO_NUL_PATTERN, Role
from shared.http.cursors import decode_cursor, encode_cursor, not_a_cursor

UserIdPath = Annotated[
    str, Path(pattern=IDENTIFIER_PATTERN, description="The integrator's user id.")
]
MAX_PAGE = 200
_USER_ID = re.compile(IDENTIFIER_PATTERN)

router = APIRouter(prefix="/v1", tags=["profiles"])


class ProfilePage(BaseModel):
    items: list[ProfilePayload]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def _encode_cursor(user_id: str) -> str:
    return encode_cursor({"after": user_id})


def _decode_cursor(cursor: str | None) -> str:
    if cursor is None:
        return ""
    after = decode_cursor(cursor).get("after")
    if isinstance(after, str) and _USER_ID.match(after):
        return after
    raise not_a_cursor(cursor)


@router.put("/profiles/{user_id}", response_model=ProfilePayload)
async def put_profile(user_id: UserIdPath, body: ProfileFields, write: WriteContext) -> Response:
    """Create or replace a mentor's or mentee's profile; publishes `ProfileUpdated`.

    Unchanged content keeps the version and publishes nothing.
    """
    command = UpsertProfile(write.tenant, user_id, body, write.expected_version, write.correlation)

    async def act(tx: ProfileTransaction) -> StoredResponse:
        profile = await handlers.upsert_profile_in(tx, command)
        return StoredResponse(200, profile.model_dump_json(), str(profile.version))

    return await write.answer_once(user_id, "PUT profile", body, act)


@router.get("/profiles/{user_id}", response_model=ProfilePayload)
async def get_profile(
    user_id: UserIdPath, tenant: Tenant, uow: Uow, response: Response
) -> ProfilePayload:
    async with uow.transaction() as tx:
        profile = await tx.get_profile(tenant, user_id)
    if profile is None:
        raise ProfileNotFound()
    response.headers["ETag"] = f'"{profile.version}"'
    return profile


@router.delete("/profiles/{user_id}", status_code=204)
async def delete_profile(user_id: UserIdPath, write: WriteContext) -> Response:
    """Erase the person (right to erasure) and publish `ProfileDeleted`; every service forgets them.

    Nothing about the person is kept, not even an Idempotency-Key record: a retry gets 404,
    and has no further effect.
    """
    command = DeleteProfile(write.tenant, user_id, write.expected_version, write.correlation)
    await handlers.delete_profile(command, write.uow)
    return Response(status_code=204)


@router.get("/profiles", response_model=ProfilePage)
async def list_profiles(
    tenant: Tenant,
    uow: Uow,
    role: Role | None = None,
    skill: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=NO_NUL_PATTERN,
            description="Has this skill (any level).",
        ),
    ] = None,
    updated_since: Annotated[
        AwareDatetime | None, Query(description="Changed at or after this instant.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ProfilePage:
    """A page of the tenant's profiles in user id order, optionally filtered."""
    query = ProfileQuery(
        limit=limit + 1,
        after_user_id=_decode_cursor(cursor),
        role=role.value if role else None,
        skill=skill.strip().lower() if skill else None,
        updated_since=updated_since,
    )
    async with uow.transaction() as tx:
        found = await tx.list_profiles(tenant, query)
    items = found[:limit]
    more = len(found) > limit
    return ProfilePage(items=items, next_cursor=_encode_cursor(items[-1].user_id) if more else None)
