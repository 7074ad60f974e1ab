"""Start-up checks that fail fast with one clear line instead of a wall of stack trace."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from shared.kafka.connection import client_kwargs
from shared.settings import DatabaseSettings, KafkaSettings

T = TypeVar("T")


class DependencyUnavailable(Exception):  # noqa: N818 - reads as a state
    def __init__(self, what: str, where: str, why: str) -> None:
        super().__init__(f"cannot reach {what} at {where}: {why}")


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text.removeprefix(f"{name}: ")
    return f"{name}: {text}" if text else name


def _postgres_location(dsn: str) -> str:
    """Host(s) and database, never the password; a failover URL names several hosts."""
    parts = urlsplit(dsn)
    hosts = parts.netloc.rpartition("@")[2] or parts.query or "local socket"
    return f"{hosts}{parts.path}"


async def check_postgres(settings: DatabaseSettings) -> None:
    dsn = settings.database_url.get_secret_value()
    try:
        conn = await asyncio.wait_for(
            asyncpg.connect(dsn, timeout=settings.db_connect_timeout_s),
            settings.db_connect_timeout_s + 1,
        )
    except (
        OSError,
        TimeoutError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        ValueError,
    ) as exc:
        raise DependencyUnavailable("PostgreSQL", _postgres_location(dsn), _describe(exc)) from None
    await conn.close()


async def check_kafka(settings: KafkaSettings) -> None:
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)  # the one line below says it all
    try:
        await asyncio.wait_for(admin.start(), settings.connect_timeout_s)
        await asyncio.wait_for(admin.list_topics(), settings.connect_timeout_s)
    except Exception as exc:  # any failure here means "not reachable or not usable"
        raise DependencyUnavailable("Kafka", settings.bootstrap_servers, _describe(exc)) from None
    finally:
        client_log.setLevel(level)
        await admin.close()


def run_service(name: str, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a service's main coroutine; a missing dependency ends it with one line and exit 2."""
    try:
        asyncio.run(main())
    except DependencyUnavailable as exc:
        print(f"{name}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass


def settings_or_exit(name: str, load: Callable[[], T]) -> T:
    """Read a service's settings; invalid ones end it with one line and exit 2.

    Only pydantic's messages are printed, never the input values (some are secrets)."""
    try:
        return load()
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(map(str, e["loc"])) + f": {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors()
        )
        print(f"{name}: invalid settings: {problems}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
