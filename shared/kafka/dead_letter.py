"""Dead-letter handling, written once for every consumer (ADR 0002).

A FastStream middleware wraps each handler call; what a failure leads to is decided by its
error class (shared/errors.py) and the one retry policy (shared/kafka/retry.py):
- invalid input (bad JSON, schema violation, unknown type or version, `InvalidEvent`) goes to
  `<topic>.dlq` at once with the reason and the original bytes, and the offset moves on;
- a temporary failure (database or broker away) backs off and re-raises, so the message is
  nacked (sought back) and retried without limit: nothing is lost while a dependency is away;
- any other failure (poison) is retried a few times, then dead-lettered so one poison message
  cannot stall its partition.
A message is dead-lettered once, whatever retries of its batch follow; a dead letter too large
for the producer goes out truncated, with a pointer to the original offset.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from pydantic import ValidationError

from shared.contracts.topics import DEAD_LETTER_SUFFIX
from shared.errors import InvalidEvent
from shared.kafka.progress import PartitionProgress
from shared.kafka.retry import Position, Retries, RetryPolicy, Verdict
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
    original_size: int | None = None  # set when `value` is a truncated copy

    @property
    def topic(self) -> str:
        return f"{self.source_topic}{DEAD_LETTER_SUFFIX}"

    def headers(self) -> dict[str, str]:
        headers = {
            **self.original_headers,
            "x-dlq-reason": self.reason,
            "x-dlq-error": self.error[:1000],
            "x-dlq-source-topic": self.source_topic,
            "x-dlq-partition": str(self.partition),
            "x-dlq-offset": str(self.offset),
            "x-dlq-service": self.service,
            "x-dlq-failed-at": datetime.now(UTC).isoformat(),
        }
        if self.original_size is not None:
            headers["x-dlq-truncated"] = "true"
            headers["x-dlq-original-bytes"] = str(self.original_size)
        return headers

    def truncated(self) -> DeadLetter:
        """What fits any producer: the body's first bytes, no original headers, no long key.
        The x-dlq-source-topic/partition/offset headers point at the original, which stays on
        its topic for the retention period."""
        return replace(
            self,
            value=self.value[:TRUNCATED_BODY_BYTES],
            key=self.key if self.key is None or len(self.key) <= MAX_KEPT_KEY_BYTES else None,
            original_headers={},
            original_size=len(self.value),
        )


TRUNCATED_BODY_BYTES = 64 * 1024
MAX_KEPT_KEY_BYTES = 1024


PublishDeadLetter = Callable[[DeadLetter], Awaitable[None]]


def classify_invalid(body: bytes, exc: BaseException) -> tuple[str, str]:
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


class DeadLetterMiddleware:
    """FastStream middleware factory; one instance per service, one scope per message. It also
    holds the service's retry counters, the positions it dead-lettered and partition progress."""

    REMEMBERED = 10_000

    def __init__(
        self,
        service: str,
        publish: PublishDeadLetter,
        retry: RetryPolicy | None = None,
        progress: PartitionProgress | None = None,
    ) -> None:
        self.service = service
        self.publish = publish
        self.retries = Retries(retry)
        self.progress = progress or PartitionProgress(service)
        # position -> fingerprint of the record (an in-memory test broker repeats positions)
        self._lettered: OrderedDict[Position, int] = OrderedDict()

    def __call__(self, msg: Any, /, **kwargs: Any) -> BaseMiddleware:
        return _DeadLetterScope(msg, policy=self, **kwargs)

    def was_dead_lettered(self, record: Any) -> bool:
        known = self._lettered.get(position_of(record))
        return known is not None and known == _fingerprint(record)

    async def dead_letter_record(
        self, record: Any, reason: str, error: str, value: bytes | None = None
    ) -> None:
        """Dead-letter one consumed record, once. A publish that fails for an outage backs off
        and raises (the message is retried); one too large goes out truncated."""
        position = position_of(record)
        if self.was_dead_lettered(record):
            return
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
        try:
            await self._publish_fitting(letter)
        except Exception:
            log.warning("dead letter for %s not published yet", position, exc_info=True)
            await self.retries.back_off_outage(position)
            raise
        self._remember(record)
        self.retries.forget(position)
        DEAD_LETTERS.labels(self.service, letter.source_topic, reason).inc()
        log.warning("dead-lettered %s[%d]@%d: %s", *position, reason)

    async def _publish_fitting(self, letter: DeadLetter) -> None:
        try:
            await self.publish(letter)
        except MessageSizeTooLargeError:
            log.warning(
                "dead letter of %d bytes too large; sending it truncated", len(letter.value)
            )
            await self.publish(letter.truncated())

    async def after_failure(self, record: Any, exc: BaseException, body: bytes | None) -> Verdict:
        """The one policy: back off and RETRY, or dead-letter now and return DEAD_LETTER."""
        verdict = await self.retries.after_failure(position_of(record), exc)
        if verdict is Verdict.DEAD_LETTER:
            reason, error = classify_failure(record.value if body is None else body, exc)
            await self.dead_letter_record(record, reason, error, body)
        return verdict

    def _remember(self, record: Any) -> None:
        self._lettered[position_of(record)] = _fingerprint(record)
        while len(self._lettered) > self.REMEMBERED:
            self._lettered.popitem(last=False)


def classify_failure(body: bytes | None, exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, ValidationError | InvalidEvent | RecursionError):
        return classify_invalid(body or b"", exc)
    return "handler_failed", f"{type(exc).__name__}: {exc}"


def _fingerprint(record: Any) -> int:
    return hash((record.key, record.value, getattr(record, "timestamp", None)))


def position_of(record: Any) -> Position:
    return (record.topic, record.partition, record.offset)


class _DeadLetterScope(BaseMiddleware):
    def __init__(self, msg: Any, /, *, policy: DeadLetterMiddleware, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.policy = policy

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        raw = msg.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        positions = [position_of(r) for r in records]
        progress = self.policy.progress
        progress.started(positions)
        if isinstance(raw, tuple):  # batch subscribers handle failures in consume_batch
            result = await call_next(msg)
            progress.passed(positions)
            return result
        if self.policy.was_dead_lettered(raw):  # redelivered after its dead letter went out
            progress.passed(positions)
            return None
        if raw.value is None:  # a tombstone: erasure on a compacted topic, not an event
            progress.passed(positions)
            return None
        try:
            result = await call_next(msg)
        except Exception as exc:
            verdict = await self.policy.after_failure(raw, exc, msg.body)
            if verdict is Verdict.RETRY:
                progress.stalled()  # counts a stall while it lasts, probed or not
                raise
            result = None
        self.policy.retries.forget(positions[0])
        progress.passed(positions)
        return result
