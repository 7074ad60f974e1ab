"""Running a service: background tasks watched for crashes, and the HTTP server in-loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI

from shared.logs import configure_logging
from shared.settings import HttpSettings, ServiceSettings
from shared.startup import run_service

log = logging.getLogger(__name__)


class BackgroundTasks:
    """Long-running loops of a service (outbox relay, email dispatcher)."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._report)
        self._tasks.append(task)

    def healthy(self) -> bool:
        return all(not t.done() for t in self._tasks)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    @staticmethod
    def _report(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task %s crashed", task.get_name(), exc_info=exc)


@asynccontextmanager
async def background_tasks() -> AsyncIterator[BackgroundTasks]:
    tasks = BackgroundTasks()
    try:
        yield tasks
    finally:
        await tasks.stop()


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
