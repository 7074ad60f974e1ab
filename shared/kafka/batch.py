"""Batch consumption, written once (ADR 0009).

A poll is parsed record by record: records that can never be valid are dead-lettered and the
rest go to one handler call (one transaction, one offset commit). When that call fails for a
reason other than an outage, the items are handled one at a time under the retry policy of
`DeadLetterMiddleware` (the same one as single-message subscribers), so only a poison item is
dead-lettered. An outage backs off and raises: the subscriber nacks, and the whole poll comes
back; records dead-lettered before are skipped then, so each goes out once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from shared.errors import is_temporary
from shared.kafka.dead_letter import DeadLetterMiddleware, classify_invalid, position_of
from shared.kafka.retry import Verdict
from shared.logs import bind_event

log = logging.getLogger(__name__)

Item = TypeVar("Item")


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
    try:
        await _consume(records, handling, dead_letters)
    except BaseException:
        dead_letters.progress.stalled()  # counts a stall while it lasts, probed or not
        raise


async def _consume(
    records: Sequence[Any], handling: BatchHandling[Item], dead_letters: DeadLetterMiddleware
) -> None:
    parsed = await _parse_or_dead_letter(records, handling, dead_letters)
    if not parsed:
        return
    try:
        await handling.handle([p.item for p in parsed])
    except Exception as exc:
        if is_temporary(exc):
            await dead_letters.retries.after_failure(position_of(parsed[0].record), exc)
            raise
        log.exception("a batch of %d events failed; handling them one by one", len(parsed))
        for one in parsed:
            await _one_by_one(one, handling, dead_letters)
    else:
        dead_letters.retries.forget(position_of(parsed[0].record))


async def _parse_or_dead_letter(
    records: Sequence[Any], handling: BatchHandling[Item], dead_letters: DeadLetterMiddleware
) -> list[_Parsed[Item]]:
    parsed = []
    for record in records:
        if dead_letters.was_dead_lettered(record):  # this poll came back after an outage
            continue
        try:
            parsed.append(_Parsed(record, handling.parse(record)))
        except (ValidationError, RecursionError) as exc:
            reason, error = classify_invalid(record.value or b"", exc)
            await dead_letters.dead_letter_record(record, reason, error)
    return parsed


async def _one_by_one(
    one: _Parsed[Item], handling: BatchHandling[Item], dead_letters: DeadLetterMiddleware
) -> None:
    event = handling.event_of(one.item)
    while True:
        bind_event(event.event_id, event.correlation_id)
        try:
            await handling.handle([one.item])
        except Exception as exc:
            verdict = await dead_letters.after_failure(one.record, exc, None)
            if verdict is Verdict.DEAD_LETTER:
                return
            if is_temporary(exc):  # the whole poll comes back after the outage
                raise
            continue
        dead_letters.retries.forget(position_of(one.record))
        return


def headers_of(record: Any) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in record.headers or ()}


async def raw_bodies(message: KafkaMessage) -> Any:
    """A batch subscriber's decoder: leave parsing to `consume_batch`, record by record, so one
    bad record does not fail the poll."""
    return message.body
