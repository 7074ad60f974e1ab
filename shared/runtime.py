"""Running a service: the HTTP server in-loop until a signal, then an orderly shutdown."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI

from shared.logs import configure_logging
from shared.settings import HttpSettings, ServiceSettings
from shared.startup import run_service

log = logging.getLogger(__name__)


async def serve_http(app: FastAPI, settings: HttpSettings) -> None:
    """Serve until SIGINT/SIGTERM; the caller's context managers then shut down in order."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="off",
        log_config=None,
        access_log=False,
    )
    await uvicorn.Server(config).serve()


class _HasApp(Protocol):
    app: FastAPI


def run_http_service(
    name: str,
    settings: ServiceSettings,
    bootstrap: Callable[[Any], AbstractAsyncContextManager[_HasApp]],
) -> None:
    """Entry point body shared by the services: bootstrap, serve HTTP until signalled, clean up."""
    configure_logging(name, settings.log_level)

    async def serve() -> None:
        async with bootstrap(settings) as service:
            await serve_http(service.app, settings.http)

    run_service(name, serve)
