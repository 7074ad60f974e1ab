"""Operator endpoints: rebuild the engines from the store, and check them against a batch run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.matching.domain.batch import recompute
from services.matching.domain.engine import population
from services.matching.service_layer.handlers import Matching
from shared.http.bearer import bearer_only


def admin_router(matching: Matching, token: str | None) -> APIRouter:
    router = APIRouter(
        prefix="/admin", tags=["admin"], dependencies=[Depends(bearer_only(token, "admin token"))]
    )

    @router.post("/rebuild")
    async def rebuild() -> dict[str, Any]:
        """Drop the in-memory engines and restore them from PostgreSQL."""
        await matching.rebuild()
        return {"partitions": sorted(matching.owned), "tenants": len(matching.engines)}

    @router.get("/verify")
    async def verify() -> dict[str, Any]:
        """Incremental rankings against a from-scratch batch recompute of the same state."""
        differ: list[str] = []
        mentees = 0
        for tenant, engine in sorted(matching.engines.items()):
            expected = recompute(population(engine), engine.config)
            actual = engine.ranking_ids()
            mentees += len(expected)
            differ += [
                f"{tenant}/{m}" for m in sorted(expected) if expected[m] != actual.get(m, ())
            ]
        return {"partitions": sorted(matching.owned), "mentees": mentees, "differ": differ}

    return router
