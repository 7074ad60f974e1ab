"""What every route of the integrator API shares: authentication, correlation ids,
preconditions (If-Match), Idempotency-Key and problem+json errors."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.profile.adapters.api_keys import ApiKeys
from services.profile.domain.goal_clarity import VagueGoal
from services.profile.domain.model import (
    GoalNotFound,
    NotAMentee,
    ProfileNotFound,
    TooManyGoals,
    VersionConflict,
)
from services.profile.domain.musts import ContradictoryMusts
from services.profile.entrypoints.http_fairness import TenantGate, TooManyRequests
from services.profile.service_layer.idempotency import Action, IdempotencyKeyReused, run_once
from services.profile.service_layer.unit_of_work import (
    IdempotentRequest,
    StoredResponse,
    UnitOfWork,
)
from shared.http.problems import problem
from shared.logs import correlation_id_var

_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"


def _uow(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.uow
    return uow


async def current_tenant(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> AsyncIterator[str]:
    """The tenant of the caller's API key; 401 for a missing, unknown or revoked key, 429 when
    the tenant is over its rate or has too many requests in flight (held until the answer)."""
    scheme, _, token = (authorization or "").partition(" ")
    keys: ApiKeys = request.app.state.api_keys
    tenant = await keys.tenant_of(token.strip()) if scheme.lower() == "bearer" else None
    if tenant is None:
        raise HTTPException(
            401, "Missing or invalid API key", headers={"WWW-Authenticate": "Bearer"}
        )
    gate: TenantGate = request.app.state.tenant_gate
    async with gate.admitted(tenant):
        yield tenant


def correlation_id(
    response: Response,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> str:
    value = x_correlation_id if x_correlation_id and _CORRELATION.match(x_correlation_id) else None
    value = value or f"req-{uuid.uuid4().hex[:16]}"
    correlation_id_var.set(value)
    response.headers["X-Correlation-Id"] = value
    return value


def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            max_length=64,
            description='Apply only if the current ETag is this one (e.g. "3"); else 412.',
        ),
    ] = None,
    if_none_match: Annotated[
        str | None,
        Header(max_length=8, description="`*`: create only; 412 if it exists already."),
    ] = None,
) -> int | None:
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise HTTPException(412, "If-None-Match accepts only *")
        return 0
    if if_match is None:
        return None
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise HTTPException(412, "If-Match must be an ETag returned by this API") from None


IdempotencyKey = Annotated[
    str | None,
    Header(
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Any unique string (a UUID): a retry with the same key and the same request "
        "has one effect and gets the first answer again, for 24 hours.",
    ),
]

Tenant = Annotated[str, Depends(current_tenant)]
Correlation = Annotated[str, Depends(correlation_id)]
Uow = Annotated[UnitOfWork, Depends(_uow)]
ExpectedVersion = Annotated[int | None, Depends(expected_version)]


def _fingerprint(*parts: str | int | None) -> bytes:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()


def json_response(stored: StoredResponse) -> Response:
    headers = {"ETag": f'"{stored.etag}"'} if stored.etag else {}
    if stored.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(stored.body, stored.status, headers=headers, media_type="application/json")


@dataclass(frozen=True)
class Write:
    """What every write route needs: who asks, under which preconditions and key."""

    tenant: str
    correlation: str
    uow: UnitOfWork
    expected_version: int | None
    idempotency_key: str | None

    async def answer_once(self, user_id: str, what: str, body: BaseModel, act: Action) -> Response:
        """Run `act` in one transaction with the Idempotency-Key claim, answer as JSON."""
        request = None
        if self.idempotency_key is not None:
            fingerprint = _fingerprint(what, user_id, self.expected_version, body.model_dump_json())
            request = IdempotentRequest(self.tenant, self.idempotency_key, user_id, fingerprint)
        return json_response(await run_once(self.uow, request, act))


def write_context(
    tenant: Tenant,
    correlation: Correlation,
    uow: Uow,
    version: ExpectedVersion,
    idempotency_key: IdempotencyKey = None,
) -> Write:
    return Write(tenant, correlation, uow, version, idempotency_key)


WriteContext = Annotated[Write, Depends(write_context)]


def _field_problem(status: int, title: str, field: str, message: str, **extra: Any) -> JSONResponse:
    return problem(status, title, message, errors=[{"field": field, "message": message}], **extra)


def install_domain_problems(app: FastAPI) -> None:
    """Domain refusals as RFC 9457 problems that name the field or precondition at fault."""

    @app.exception_handler(VersionConflict)
    async def _conflict(_r: Request, exc: VersionConflict) -> JSONResponse:
        return problem(
            412,
            "Changed meanwhile",
            f"{exc}; read it again and retry with its ETag in If-Match",
            current_version=exc.actual or 0,
        )

    for missing, title, detail in (
        (NotAMentee, "No such mentee", "goals belong to people with the mentee role"),
        (ProfileNotFound, "No such profile", None),
        (GoalNotFound, "No such goal", "the mentee holds no open goal with this id"),
    ):
        app.add_exception_handler(missing, _not_found(title, detail))

    @app.exception_handler(VagueGoal)
    async def _vague(_r: Request, exc: VagueGoal) -> JSONResponse:
        return _field_problem(
            422,
            "The goal is too vague",
            "statement",
            "names nothing concrete: no target skill or area and no measurable result",
            suggestions=[{"term": a.term, "suggestion": a.suggestion} for a in exc.advice],
        )

    @app.exception_handler(ContradictoryMusts)
    async def _contradictory(_r: Request, exc: ContradictoryMusts) -> JSONResponse:
        errors = [{"field": field, "message": message} for field, message in exc.problems]
        fields = ", ".join(sorted({field for field, _ in exc.problems}))
        return problem(422, "The goal's musts contradict it", f"invalid: {fields}", errors=errors)

    @app.exception_handler(TooManyGoals)
    async def _too_many_goals(_r: Request, exc: TooManyGoals) -> JSONResponse:
        return _field_problem(
            422, "Too many goals", "goal_id", str(exc), max_active_goals=exc.limit
        )

    @app.exception_handler(TooManyRequests)
    async def _too_many(_r: Request, exc: TooManyRequests) -> JSONResponse:
        response = problem(429, "Too many requests", f"this tenant sent {exc.detail}; retry later")
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(IdempotencyKeyReused)
    async def _reused(_r: Request, _exc: IdempotencyKeyReused) -> JSONResponse:
        return _field_problem(
            422,
            "Idempotency-Key reused",
            "Idempotency-Key",
            "this key was first used for a different request; use a new key per request",
        )


def _not_found(title: str, detail: str | None) -> Callable[[Request, Exception], JSONResponse]:
    return lambda _request, _exc: problem(404, title, detail)
