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


def _not_json(exc: RequestValidationError) -> JSONResponse | None:
    """A body that does not parse has no fields to name: say so, and where parsing stopped
    (FastAPI puts that character offset where a field name would be)."""
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            position = error.get("loc", ("body", "?"))[-1]
            reason = (error.get("ctx") or {}).get("error", "JSON decode error")
            message = f"not valid JSON: {reason} (at character {position})"
            return problem(
                422,
                "The request body is not valid JSON",
                message,
                errors=[{"field": "body", "message": message}],
            )
    return None


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        if (not_json := _not_json(exc)) is not None:
            return not_json
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
