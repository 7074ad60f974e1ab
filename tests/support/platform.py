"""The three services running in-process against real Kafka, PostgreSQL and SMTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from devenv.infra import KafkaEndpoint, free_port
from devenv.smtp_sink import SmtpSink
from services.matching.bootstrap import MatchingService
from services.matching.bootstrap import bootstrap as matching_bootstrap
from services.matching.settings import MatchingSettings
from services.notifications.bootstrap import NotificationsService
from services.notifications.bootstrap import bootstrap as notifications_bootstrap
from services.notifications.settings import NotificationsSettings, SmtpSettings
from services.profile.bootstrap import ProfileService
from services.profile.bootstrap import bootstrap as profile_bootstrap
from services.profile.settings import ProfileSettings
from shared.settings import DatabaseSettings, KafkaSettings, TracingSettings
from tests.support.polling import eventually


def kafka_settings(
    endpoint: KafkaEndpoint, topic_prefix: str, partitions: int = 3
) -> KafkaSettings:
    return KafkaSettings(**endpoint.settings(), topic_prefix=topic_prefix, partitions=partitions)


@dataclass
class Platform:
    profile: ProfileService
    matching: MatchingService
    notifications: NotificationsService
    kafka: KafkaSettings
    http: httpx.AsyncClient
    tenant: str
    api_key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@asynccontextmanager
async def served(app: Any, port: int) -> AsyncIterator[None]:
    """An ASGI app served over HTTP on 127.0.0.1:port while the context lasts."""
    config = uvicorn.Config(app, port=port, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, what="HTTP server")
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def running_platform(
    endpoint: KafkaEndpoint,
    database_url: str,
    topic_prefix: str,
    smtp: SmtpSink,
    tenant: str = "acme",
    tracing: TracingSettings | None = None,
    partitions: int = 3,
    read_token: str | None = None,
    profile_options: dict[str, Any] | None = None,
) -> AsyncIterator[Platform]:
    """With `read_token`, matching's app is served over HTTP on a free port, and the profile
    service forwards the read API there (ADR 0011) with that token. `profile_options`: other
    ProfileSettings fields."""
    kafka = kafka_settings(endpoint, topic_prefix, partitions)
    db = DatabaseSettings(database_url=database_url)
    traced: dict[str, Any] = {"tracing": tracing} if tracing else {}
    port = free_port()
    reads = {"matching_url": f"http://127.0.0.1:{port}", "matching_read_token": read_token}
    async with AsyncExitStack() as stack:
        profile = await stack.enter_async_context(
            profile_bootstrap(
                ProfileSettings(
                    kafka=kafka,
                    db=db,
                    **traced,
                    **(reads if read_token else {}),
                    **(profile_options or {}),
                )
            )
        )
        matching = await stack.enter_async_context(
            matching_bootstrap(
                MatchingSettings(kafka=kafka, db=db, read_token=read_token, **traced)
            )
        )
        if read_token:
            await stack.enter_async_context(served(matching.app, port))
        notifications = await stack.enter_async_context(
            notifications_bootstrap(
                NotificationsSettings(
                    kafka=kafka,
                    db=db,
                    smtp=SmtpSettings(host=smtp.host, port=smtp.port),
                    retry_base_s=0.05,
                    retry_max_s=0.2,
                    digest_window_s=0,  # one email per proposal, at once: tests see each
                    **traced,
                )
            )
        )
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=profile.app), base_url="http://profile"
            )
        )
        issued = await profile.api_keys.create(tenant, "tests")
        yield Platform(profile, matching, notifications, kafka, http, tenant, issued.token)
