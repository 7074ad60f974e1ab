"""Batch consumption, written once (ADR 0009).

A poll is parsed record by record: records that can never be valid are dead-lettered and the
rest go to one handler call (one transaction, one offset commit). When that call fails for a
reason other than an outage, the items are handled one at a time with the retry policy of
`DeadLetterMiddleware`, so only a poison item is dead-lettered. An outage backs off and raises:
the subscriber nacks, and the whole poll comes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from shared.errors import TRANSIENT_ERRORS
from shared.kafka.dead_letter import DeadLetterMiddleware, classify_invalid
from shared.logs import bind_event

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Position = tuple[str, int, int]


class Traced(Protocol):
    @property
    def event_id(self) -> UUID: ...

    @property
    def correlation_id(self) -> str | None: ...


@dataclass(frozen=True)
class BatchHandling(Generic[Item]):
    """How one service reads a record (`parse` raises ValidationError on a bad one), handles a
    batch of items in one transaction, and names the event an item came from (for the logs)."""

    parse: Callable[[Any], Item]
    handle: Callable[[Sequence[Item]], Awaitable[None]]
    event_of: Callable[[Item], Traced]


@dataclass(frozen=True)
class _Parsed(Generic[Item]):
    record: Any  # aiokafka ConsumerRecord
    item: Item


async def consume_batch(
    records: Sequence[Any], handling: BatchHandling[Item], dead_letters: DeadLetterMiddleware
) -> None:
    parsed = await _parse_or_dead_letter(records, handling, dead_letters)
    if not parsed:
        return
    try:
        await handling.handle([p.item for p in parsed])
    except TRANSIENT_ERRORS as exc:
        await _back_off(records[0], dead_letters, exc)
        raise
    except Exception:
        log.exception("a batch of %d events failed; handling them one by one", len(parsed))
        for one in parsed:
            await _one_by_one(one, handling, dead_letters)
    else:
        dead_letters.forget(position_of(records[0]))


async def _parse_or_dead_letter(
    records: Sequence[Any], handling: BatchHandling[Item], dead_letters: DeadLetterMiddleware
) -> list[_Parsed[Item]]:
    parsed = []
    for record in records:
        try:
            parsed.append(_Parsed(record, handling.parse(record)))
        except (ValidationError, RecursionError) as exc:
            reason, error = classify_invalid(record.value or b"", exc)
            await dead_letters.dead_letter_record(record, reason, error)
    return parsed


async def _one_by_one(
    one: _Parsed[Item], handling: BatchHandling[Item], dead_letters: DeadLetterMiddleware
) -> None:
    position = position_of(one.record)
    event = handling.event_of(one.item)
    while True:
        bind_event(event.event_id, event.correlation_id)
        try:
            await handling.handle([one.item])
        except TRANSIENT_ERRORS as exc:
            await _back_off(one.record, dead_letters, exc)
            raise
        except Exception as exc:
            attempt = dead_letters.attempt(position)
            if attempt < dead_letters.retry.max_attempts:
                log.exception("event failed on %s, attempt %d", position, attempt)
                await asyncio.sleep(dead_letters.retry.delay(attempt))
                continue
            error = f"{type(exc).__name__}: {exc}"
            await dead_letters.dead_letter_record(one.record, "handler_failed", error)
        dead_letters.forget(position)
        return


async def _back_off(record: Any, dead_letters: DeadLetterMiddleware, exc: BaseException) -> None:
    attempt = dead_letters.attempt(position_of(record))
    log.warning("transient failure at %s, retry %d: %s", position_of(record), attempt, exc)
    await asyncio.sleep(dead_letters.retry.delay(attempt))


def position_of(record: Any) -> Position:
    return (record.topic, record.partition, record.offset)


def headers_of(record: Any) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in record.headers or ()}


async def raw_bodies(message: KafkaMessage) -> Any:
    """A batch subscriber's decoder: leave parsing to `consume_batch`, record by record, so one
    bad record does not fail the poll."""
    return message.body
