"""/healthz (the process is alive), /readyz (its dependencies answer), /metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import asyncpg
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker

from shared.metrics import Refresher, render
from shared.runtime import BackgroundTasks

ReadinessCheck = Callable[[], Awaitable[bool]]


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        results = {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        ready = all(results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return router


def postgres_ready(pool: asyncpg.Pool) -> ReadinessCheck:
    async def check() -> bool:
        return bool(await pool.fetchval("SELECT 1", timeout=2))

    return check


def kafka_ready(broker: KafkaBroker) -> ReadinessCheck:
    async def check() -> bool:
        return await broker.ping(timeout=2)

    return check


def tasks_ready(tasks: BackgroundTasks) -> ReadinessCheck:
    async def check() -> bool:
        return tasks.healthy()

    return check


def metrics_router(refreshers: Mapping[str, Refresher]) -> APIRouter:
    """GET /metrics in the Prometheus text format."""
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = await render(refreshers)
        return Response(content=body, media_type=content_type)

    return router


def partitions_assigned(broker: KafkaBroker) -> ReadinessCheck:
    """Every subscriber's consumer holds at least one partition (its group has settled)."""

    async def check() -> bool:
        consumers = [getattr(s, "consumer", None) for s in broker.subscribers]
        return bool(consumers) and all(c is not None and c.assignment() for c in consumers)

    return check
