"""One FastStream batch subscriber over the four co-partitioned topics: validate, hand off.

Goals, feedback and profiles are keyed by person and `matching.mentors` copies go to explicit
partitions, so partition N of every topic belongs to the same instance (range assignment):
that instance owns the mentees of partition N, in event order, and restores their state from
PostgreSQL when the partition is assigned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeAlias

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field, TypeAdapter, ValidationError

from services.matching.domain.events import MENTOR_FEED, MentorChanged
from services.matching.service_layer import handlers
from services.matching.service_layer.handlers import Delivery, Matching
from shared.contracts.feedback import MatchAccepted, MatchDeclined
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.contracts.topics import FEEDBACK, GOALS, PROFILES
from shared.errors import TRANSIENT_ERRORS
from shared.kafka.consumer import subscriber_options
from shared.kafka.dead_letter import DeadLetterMiddleware, classify_invalid
from shared.logs import bind_event
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

MatchingEvent: TypeAlias = Annotated[
    ProfileUpdated | ProfileDeleted | GoalSet | MatchAccepted | MatchDeclined | MentorChanged,
    Field(discriminator="event_type"),
]
EVENTS: TypeAdapter[
    ProfileUpdated | ProfileDeleted | GoalSet | MatchAccepted | MatchDeclined | MentorChanged
] = TypeAdapter(MatchingEvent)  # type: ignore[arg-type, unused-ignore]  # mypy: Annotated union
CONSUMED = (PROFILES, GOALS, FEEDBACK, MENTOR_FEED)


class PartitionOwnership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Restore the owned partitions' engines before their first message is handled."""

    def __init__(self, matching: Matching) -> None:
        self._matching = matching
        self.assigned: frozenset[int] = frozenset()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.assigned = frozenset()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        partitions = frozenset(tp.partition for tp in assigned)
        await self._matching.take_partitions(partitions)
        self.assigned = partitions
        log.info("matching owns partitions %s", sorted(partitions))


@dataclass(frozen=True)
class Consumed:
    record: Any  # aiokafka ConsumerRecord
    delivery: Delivery


def parse(records: Sequence[Any]) -> tuple[list[Consumed], list[tuple[Any, str, str]]]:
    """Valid events in order, and the records that can never be (with reason and error)."""
    consumed, invalid = [], []
    for record in records:
        body = record.value or b""
        try:
            event = EVENTS.validate_json(body)
        except (ValidationError, RecursionError) as exc:
            invalid.append((record, *classify_invalid(body, exc)))
            continue
        headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
        consumed.append(Consumed(record, Delivery(event, record.partition, headers)))
    return consumed, invalid


async def consume(
    records: Sequence[Any], matching: Matching, dead_letters: DeadLetterMiddleware
) -> None:
    """One transaction for the poll's events; if it fails for a reason other than an outage,
    the events go one by one, so that only a poison event is dead-lettered."""
    consumed, invalid = parse(records)
    for record, reason, error in invalid:
        await dead_letters.dead_letter_record(record, reason, error)
    if not consumed:
        return
    try:
        await handlers.handle_batch([c.delivery for c in consumed], matching)
    except TRANSIENT_ERRORS as exc:
        await _back_off(records[0], dead_letters, exc)
        raise
    except Exception:
        log.exception("a batch of %d events failed; handling them one by one", len(consumed))
        for one in consumed:
            await _one_by_one(one, matching, dead_letters)
    else:
        dead_letters.forget(_position(records[0]))


async def _one_by_one(
    one: Consumed, matching: Matching, dead_letters: DeadLetterMiddleware
) -> None:
    position = _position(one.record)
    while True:
        bind_event(one.delivery.event.event_id, one.delivery.event.correlation_id)
        try:
            await handlers.handle_batch([one.delivery], matching)
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
    attempt = dead_letters.attempt(_position(record))
    log.warning("transient failure at %s, retry %d: %s", _position(record), attempt, exc)
    await asyncio.sleep(dead_letters.retry.delay(attempt))


def _position(record: Any) -> tuple[str, int, int]:
    return (record.topic, record.partition, record.offset)


async def raw_bodies(message: KafkaMessage) -> Any:
    """Leave parsing to `parse`, record by record: one bad record must not fail the batch."""
    return message.body


def build_router(
    kafka: KafkaSettings,
    matching: Matching,
    ownership: PartitionOwnership,
    dead_letters: DeadLetterMiddleware,
) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        *(topic.qualified(kafka.topic_prefix) for topic in CONSUMED),
        **subscriber_options(kafka.group("matching")),
        batch=True,
        decoder=raw_bodies,
        partition_assignment_strategy=(RangePartitionAssignor,),
        listener=ownership,
        title="matching/on_matching_events",
        description="Profiles, goals, feedback and mentor fan-out, co-partitioned by mentee; "
        "each poll's events are handled in order in one transaction.",
    )
    async def on_matching_events(bodies: list[bytes], message: KafkaMessage) -> None:
        records = message.raw_message
        assert isinstance(records, tuple)  # a batch subscriber
        await consume(records, matching, dead_letters)

    return router
