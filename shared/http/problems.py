"""RFC 9457 problem+json responses, so every error names what was wrong."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import TRANSIENT_ERRORS

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        errors.append({"field": ".".join(location), "message": str(error.get("msg", ""))})
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        fields = ", ".join(sorted({e["field"] for e in errors if e["field"]})) or "request"
        return problem(422, "Invalid request", f"invalid: {fields}", errors=errors)

    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        response = problem(503, "A dependency is unavailable; retry later", type(exc).__name__)
        response.headers["Retry-After"] = "5"
        return response

    for error in TRANSIENT_ERRORS:  # an outage (PostgreSQL down) is a 503, never a 500
        if issubclass(error, Exception):
            app.add_exception_handler(error, _unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response
