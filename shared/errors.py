"""Error kinds that decide what happens to a consumed message."""

from __future__ import annotations

import asyncio

import asyncpg


class InvalidEvent(Exception):  # noqa: N818 - reads as "this is an invalid event"
    """The message can never be handled: it goes to the dead-letter topic at once."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class TransientError(Exception):
    """A dependency is down; retry the same message after a backoff."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)
