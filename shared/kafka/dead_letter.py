"""Dead-letter handling, written once for every consumer.

A FastStream middleware wraps each handler call:
- invalid input (bad JSON, schema violation, unknown type or version, `InvalidEvent`) goes to
  `<topic>.dlq` at once with the reason and the original bytes, and the offset moves on;
- a transient failure (database or broker down) backs off and re-raises, so the message is
  nacked (sought back) and retried without limit: nothing is lost while a dependency is away;
- any other failure is retried a few times, then dead-lettered so one poison message cannot
  stall its partition.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from faststream import BaseMiddleware
from faststream.message import StreamMessage
from pydantic import ValidationError

from shared.contracts.topics import DEAD_LETTER_SUFFIX
from shared.errors import TRANSIENT_ERRORS, InvalidEvent
from shared.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    source_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    reason: str
    error: str
    service: str
    original_headers: dict[str, str] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return f"{self.source_topic}{DEAD_LETTER_SUFFIX}"

    def headers(self) -> dict[str, str]:
        return {
            **self.original_headers,
            "x-dlq-reason": self.reason,
            "x-dlq-error": self.error[:1000],
            "x-dlq-source-topic": self.source_topic,
            "x-dlq-partition": str(self.partition),
            "x-dlq-offset": str(self.offset),
            "x-dlq-service": self.service,
            "x-dlq-failed-at": datetime.now(UTC).isoformat(),
        }


PublishDeadLetter = Callable[[DeadLetter], Awaitable[None]]


def classify_invalid(body: bytes, exc: Exception) -> tuple[str, str]:
    """Machine-readable reason code and a short error for an invalid message."""
    if isinstance(exc, InvalidEvent):
        return exc.reason, exc.detail
    try:
        json.loads(body)
    except (ValueError, RecursionError) as decode_error:  # RecursionError: nested too deep
        return "invalid_json", str(decode_error)
    if not isinstance(exc, ValidationError):  # e.g. a handler that recursed on valid JSON
        return "handler_failed", f"{type(exc).__name__}: {exc}"
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] == "union_tag_invalid" for e in errors):
        reason = "unknown_event_type"
    elif any(e["loc"] and e["loc"][-1] == "schema_version" for e in errors):
        reason = "unknown_schema_version"
    else:
        reason = "schema_violation"
    summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:10])
    return reason, summary


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.1
    max_delay_s: float = 5.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempt - 1)))


class DeadLetterMiddleware:
    """FastStream middleware factory; one instance per service, one scope per message."""

    def __init__(self, service: str, publish: PublishDeadLetter, retry: RetryPolicy | None = None):
        self.service = service
        self.publish = publish
        self.retry = retry or RetryPolicy()
        self._attempts: dict[tuple[str, int, int], int] = {}

    def __call__(self, msg: Any, /, **kwargs: Any) -> BaseMiddleware:
        return _DeadLetterScope(msg, policy=self, **kwargs)

    async def dead_letter(self, msg: StreamMessage[Any], reason: str, error: str) -> None:
        await self.dead_letter_record(msg.raw_message, reason, error, msg.body)

    async def dead_letter_record(
        self, record: Any, reason: str, error: str, value: bytes | None = None
    ) -> None:
        """Dead-letter one consumed record (batch subscribers call this for each bad one)."""
        letter = DeadLetter(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=(record.value or b"") if value is None else value,
            reason=reason,
            error=error,
            service=self.service,
            original_headers={k: v.decode(errors="replace") for k, v in record.headers or ()},
        )
        await self.publish(letter)
        DEAD_LETTERS.labels(self.service, letter.source_topic, reason).inc()
        log.warning(
            "dead-lettered %s[%d]@%d: %s",
            letter.source_topic,
            letter.partition,
            letter.offset,
            reason,
        )

    def attempt(self, position: tuple[str, int, int]) -> int:
        self._attempts[position] = self._attempts.get(position, 0) + 1
        if len(self._attempts) > 10_000:  # bounded: forget the oldest positions
            for stale in list(self._attempts)[:5_000]:
                del self._attempts[stale]
        return self._attempts[position]

    def forget(self, position: tuple[str, int, int]) -> None:
        self._attempts.pop(position, None)


class _DeadLetterScope(BaseMiddleware):
    def __init__(self, msg: Any, /, *, policy: DeadLetterMiddleware, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.policy = policy

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        record = msg.raw_message
        if isinstance(record, tuple):  # batch subscribers handle their own failures
            return await call_next(msg)
        position = (record.topic, record.partition, record.offset)
        try:
            result = await call_next(msg)
        except (ValidationError, InvalidEvent, RecursionError) as exc:
            # RecursionError: FastStream's json decoder on a body nested too deep
            reason, error = classify_invalid(msg.body, exc)
            await self.policy.dead_letter(msg, reason, error)
            self.policy.forget(position)
            return None
        except TRANSIENT_ERRORS as exc:
            attempt = self.policy.attempt(position)
            log.warning(
                "transient failure on %s, retry %d: %s", position, attempt, type(exc).__name__
            )
            await asyncio.sleep(self.policy.retry.delay(attempt))
            raise
        except Exception as exc:
            attempt = self.policy.attempt(position)
            if attempt < self.policy.retry.max_attempts:
                log.exception("handler failed on %s, attempt %d", position, attempt)
                await asyncio.sleep(self.policy.retry.delay(attempt))
                raise
            await self.policy.dead_letter(msg, "handler_failed", f"{type(exc).__name__}: {exc}")
            self.policy.forget(position)
            return None
        self.policy.forget(position)
        return result
