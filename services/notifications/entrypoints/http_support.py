"""Delivery log for support staff: what happened to a mentee's proposal emails.

Protected by a bearer token from `NOTIFICATIONS_SUPPORT_TOKEN` (compared in constant time);
every query names the tenant. Errors are problem+json. Newest first, keyset-paginated.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field, SecretStr

from services.notifications.service_layer.ports import Delivery, DeliveryLog, DeliveryQuery
from shared.contracts.goals import GOAL_ID_PATTERN
from shared.contracts.types import IDENTIFIER_PATTERN

UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="mentorlink-support"'}


class DeliveryView(BaseModel):
    kind: str = Field(
        default="proposal",
        description="proposal, or a relationship's email: mentor_request, request_reminder, "
        "introduction, fit_check, relationship_ended (docs/lifecycle.md#emails).",
        examples=["proposal"],
    )
    proposal_id: UUID = Field(
        description="The proposal; for a relationship's email, its request id."
    )
    mentee_id: str = Field(
        description="The recipient (a mentor, for a relationship's email to the mentor).",
        examples=["u-1042"],
    )
    goal_id: str | None = Field(
        default=None,
        description="The mentee's goal the email answers: the proposal's goal, or for a "
        "relationship's email the goal of its request; null when the row does not say. "
        "Proposals from before several goals name the goal id they were made for.",
        examples=["goal-k8s"],
    )
    ranking_version: int = Field(
        description="The proposal's ranking version; for a relationship's email, the event version."
    )
    state: str = Field(
        description="queued, sending, released (handed to the SMTP server; its reply was not "
        "recorded, e.g. the service stopped: counts as sent), sent, failed, suppressed (opted "
        "out or no address) or superseded (a newer proposal replaced it within the digest "
        "window).",
        examples=["sent"],
    )
    reason: str | None = Field(
        description="Why it failed, waits or was suppressed; addresses are redacted.",
        examples=["421 4.7.0 try again later"],
    )
    attempts: int = Field(examples=[2])
    message_id: str
    queued_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None = Field(description="When queued or sending: next try.")
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )


def _view(d: Delivery) -> DeliveryView:
    return DeliveryView(
        kind=d.kind,
        proposal_id=d.proposal_id,
        mentee_id=d.mentee_id,
        goal_id=d.goal_id,
        ranking_version=d.ranking_version,
        state=d.state,
        reason=d.reason,
        attempts=d.attempts,
        message_id=d.message_id,
        queued_at=d.created_at,
        updated_at=d.updated_at,
        next_attempt_at=d.next_attempt_at,
        sent_at=d.sent_at,
    )


def support_auth(token: SecretStr | None) -> Callable[[Request], Awaitable[None]]:
    expected = token.get_secret_value().encode() if token else None

    async def check(request: Request) -> None:
        if expected is None:  # switched off by configuration: not there, rather than broken
            raise HTTPException(404, "Delivery log disabled: NOTIFICATIONS_SUPPORT_TOKEN is unset")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
            raise HTTPException(401, "A valid support token is required", headers=UNAUTHORIZED)

    return check


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise HTTPException(400, "Invalid cursor")
    return int(value)


def delivery_log_router(log: DeliveryLog, token: SecretStr | None) -> APIRouter:
    router = APIRouter(
        prefix="/v1/support", tags=["support"], dependencies=[Depends(support_auth(token))]
    )

    @router.get("/deliveries", response_model=DeliveryPage)
    async def list_deliveries(
        tenant_id: Annotated[str, Query(pattern=IDENTIFIER_PATTERN)],
        mentee_id: Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN)] = None,
        proposal_id: UUID | None = None,
        goal_id: Annotated[str | None, Query(max_length=64, pattern=GOAL_ID_PATTERN)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=20)] = None,
    ) -> DeliveryPage:
        query = DeliveryQuery(
            tenant_id, mentee_id, proposal_id, _cursor(cursor), limit, goal_id=goal_id
        )
        rows = await log.deliveries(query)
        more = len(rows) == limit
        return DeliveryPage(
            items=[_view(r) for r in rows], next_cursor=str(rows[-1].id) if more else None
        )

    return router
