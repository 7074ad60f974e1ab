"""An outage reaching an endpoint is a 503 problem with Retry-After, never a 500."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI

from shared.http.problems import install_problem_handlers


async def test_a_database_outage_answers_503_problem_json() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/thing")
    async def thing() -> None:
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/thing")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "5"
    assert response.json()["status"] == 503
