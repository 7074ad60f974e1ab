"""Error classes, decided once for every consumer and background loop (ADR 0002).

- temporary: a dependency is away or refused this attempt for a reason that passes by itself.
  Retried without limit, with backoff; never dead-lettered; never counted against a message.
- invalid: the message can never be handled (bad JSON, schema, `InvalidEvent`): dead-lettered
  at once.
- poison: anything else. The handler failed on this message for a reason nobody classified:
  retried a few times on its own counter, then dead-lettered so that it cannot stall its
  partition.
"""

from __future__ import annotations

import asyncio
import enum

import asyncpg
from aiokafka.errors import KafkaError, KafkaTimeoutError
from pydantic import ValidationError


class InvalidEvent(Exception):  # noqa: N818 - reads as "this is an invalid event"
    """The message can never be handled: it goes to the dead-letter topic at once."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class TransientError(Exception):
    """A dependency is down; retry the same message after a backoff."""


class ErrorClass(enum.Enum):
    TEMPORARY = "temporary"
    INVALID = "invalid"
    POISON = "poison"


# Each of these ends by itself, without anyone touching the message or the code:
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    OSError,  # sockets: refused, reset, unreachable
    asyncio.TimeoutError,  # a query or connection attempt that took too long
    # class 08: the connection broke or could not be made
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # asyncpg's "connection is closed" and friends
    # 25006: a standby promoted late, or a primary demoted: writes come back after failover
    asyncpg.ReadOnlySQLTransactionError,
    # 40001, 40P01: the transaction lost a race; PostgreSQL asks the client to run it again
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    # 53xxx: disk full, out of memory, too many connections, a configured limit: capacity
    # comes back when space is freed or other sessions end
    asyncpg.InsufficientResourcesError,
    # 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up,
    # recovering), 57P05 idle session timeout: the server is restarting or dropped the session
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.IdleSessionTimeoutError,
    # 55P03: lock_timeout while another transaction holds the row; it will let go
    asyncpg.LockNotAvailableError,
    # 58030: an I/O error on the server (a failing or full volume), fixed by operators
    asyncpg.PostgresIOError,
    # Kafka: a request that timed out while the broker is away
    KafkaTimeoutError,
)


def is_temporary(exc: BaseException) -> bool:
    """True for an outage; aiokafka marks its own retriable errors (leader moved, broker down)."""
    if isinstance(exc, TRANSIENT_ERRORS):
        return True
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))


def classify(exc: BaseException) -> ErrorClass:
    # RecursionError: FastStream's json decoder on a body nested too deep
    if isinstance(exc, InvalidEvent | ValidationError | RecursionError):
        return ErrorClass.INVALID
    if is_temporary(exc):
        return ErrorClass.TEMPORARY
    return ErrorClass.POISON
