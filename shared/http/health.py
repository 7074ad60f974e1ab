"""/healthz (the process is alive and its loops are), /readyz (it can do its work), /metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker

from shared.kafka.progress import PartitionProgress
from shared.metrics import Refresher, render
from shared.supervision import Supervisor

ReadinessCheck = Callable[[], Awaitable[bool]]
log = logging.getLogger(__name__)


def health_router(checks: dict[str, ReadinessCheck], loops: Supervisor | None = None) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        """503 while a background loop is down or stuck past its limit (shared/supervision.py):
        the orchestrator then restarts the process."""
        problems = loops.problems() if loops else {}
        if problems:
            return JSONResponse({"status": "unhealthy", "loops": problems}, status_code=503)
        return JSONResponse({"status": "ok"})

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


def loops_running(loops: Supervisor) -> ReadinessCheck:
    async def check() -> bool:
        return loops.running()

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


def partitions_progressing(broker: KafkaBroker, progress: PartitionProgress) -> ReadinessCheck:
    """No assigned partition has stayed on one message past the stall limit."""

    async def check() -> bool:
        assigned = {
            (tp.topic, tp.partition)
            for s in broker.subscribers
            if (consumer := getattr(s, "consumer", None)) is not None
            for tp in consumer.assignment()
        }
        stalled = progress.stalled(assigned)
        if stalled:
            log.warning("partitions stalled: %s", stalled)
        return not stalled

    return check
