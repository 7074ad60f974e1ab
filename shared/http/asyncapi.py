"""Serve a service's AsyncAPI document (JSON and FastStream's HTML viewer)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html


def asyncapi_router(broker: KafkaBroker, title: str) -> APIRouter:
    router = APIRouter(tags=["documentation"])
    spec = AsyncAPI(broker, title=title, version="1")

    @router.get("/asyncapi.json")
    async def asyncapi_json() -> dict[str, Any]:
        document: dict[str, Any] = json.loads(spec.to_specification().to_json())
        return document

    @router.get("/asyncapi", response_class=HTMLResponse)
    async def asyncapi_html() -> str:
        return get_asyncapi_html(spec.to_specification(), try_it_out_path=None)

    return router
