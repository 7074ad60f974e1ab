"""Operator endpoints: rebuild the engines from the store, and check them against a batch run."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException

from services.matching.domain.batch import recompute
from services.matching.domain.engine import population
from services.matching.service_layer.handlers import Matching


def admin_router(matching: Matching, token: str | None) -> APIRouter:
    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        expected = f"Bearer {token}" if token else None
        if expected is None or not hmac.compare_digest(
            (authorization or "").encode(), expected.encode()
        ):
            raise HTTPException(status_code=401, detail="admin token required")

    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(authorised)])

    @router.post("/rebuild")
    async def rebuild() -> dict[str, Any]:
        """Drop the in-memory engines and restore them from PostgreSQL."""
        await matching.take_partitions(matching.owned)
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
