"""One FastStream batch subscriber over the four co-partitioned topics: validate, hand off.

Goals, feedback and profiles are keyed by person and `matching.mentors` copies go to explicit
partitions, so partition N of every topic belongs to the same instance (a co-partitioned
assignment): that instance owns the mentees of partition N, in event order, and restores their
state from PostgreSQL when the partition is assigned. Partitions stay with their instance when
another joins, and the engines keep their state across the rebalance
(docs/adr/0014-sticky-partitions-and-kept-state.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Annotated, Any, TypeAlias, cast

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field, TypeAdapter

from services.matching.domain.events import ExposureChanged, MentorChanged
from services.matching.service_layer import handlers
from services.matching.service_layer.handlers import Delivery, Matching
from services.matching.service_layer.topics import MENTOR_FEED
from shared.contracts.goals import GoalClosed, GoalSet
from shared.contracts.preferences import PreferencesAdjusted
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.contracts.topics import FEEDBACK, GOALS, PROFILES, FeedbackUnion
from shared.kafka.batch import BatchHandling, consume_batch, headers_of, raw_bodies
from shared.kafka.consumer import subscriber_options
from shared.kafka.dead_letter import DeadLetterMiddleware
from shared.kafka.sticky import CoPartitionedStickyAssignor
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

MatchingUnion: TypeAlias = (
    ProfileUpdated
    | ProfileDeleted
    | GoalSet
    | PreferencesAdjusted
    | GoalClosed
    | FeedbackUnion
    | MentorChanged
    | ExposureChanged
)
MatchingEvent: TypeAlias = Annotated[MatchingUnion, Field(discriminator="event_type")]
EVENTS: TypeAdapter[MatchingUnion] = TypeAdapter(MatchingEvent)  # type: ignore[arg-type, unused-ignore]  # mypy: Annotated union
CONSUMED = (PROFILES, GOALS, FEEDBACK, MENTOR_FEED)


class PartitionOwnership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Take the assigned partitions before their first message is handled: keep the state
    the engines hold of those that stayed, restore the others (Matching.take_partitions)."""

    def __init__(self, matching: Matching) -> None:
        self._matching = matching
        self.assigned: frozenset[int] = frozenset()
        # what this member tells the group's leader it holds, when it joins
        self.assignor = CoPartitionedStickyAssignor(lambda: matching.holding)
        self._taking: asyncio.Task[None] | None = None
        self._taking_partitions: frozenset[int] = frozenset()
        self._revoked = False  # since the last assignment

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Owned no longer: a poll handled until the next assignment changes nothing, so a
        # partition's new owner restores it after this instance's last transaction on it.
        # The engines keep their state: most partitions come back to the same instance.
        self._revoked = True
        self.assigned = frozenset()
        self._matching.owned = frozenset()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """The partitions are taken after this returns: aiokafka sends no heartbeat while its
        listener runs, and a restore longer than the session timeout got the member expelled.
        Polls wait for the take (it holds `turn`, taken here before any poll can)."""
        partitions = frozenset(tp.partition for tp in assigned)
        self._revoked = False
        if self._taking is not None and not self._taking.done():  # rebalanced meanwhile
            if partitions == self._taking_partitions:
                # The same partitions again (a member's failed commit makes it rejoin): the
                # take under way claims them, or did, for this generation too. Restarting it
                # cost the new instance a second restore.
                return
            self._taking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._taking
        await self._matching.turn.acquire()
        self._taking_partitions = partitions
        self._taking = asyncio.create_task(self._take(partitions))

    async def _take(self, partitions: frozenset[int]) -> None:
        try:
            start, restores = time.perf_counter(), self._matching.restores
            await self._matching.take_in_turn(partitions)
            if self._revoked:  # and not assigned again yet: nothing is owned until it is
                self._matching.owned = frozenset()
                return
            self.assigned = partitions
            how = "restored from the store" if self._matching.restores > restores else "state kept"
            seconds = time.perf_counter() - start
            log.info("matching owns partitions %s (%s in %.2f s)", sorted(partitions), how, seconds)
        except asyncio.CancelledError:  # another assignment came: nothing half-restored is
            self._matching.owned = self._matching.holding = frozenset()  # kept by the next take
            raise
        except Exception:  # each tenant's engine is restored by its next event instead
            log.exception("taking partitions %s failed", sorted(partitions))
        finally:
            self._matching.turn.release()


def parse_delivery(record: Any) -> Delivery:
    event = EVENTS.validate_json(record.value or b"")
    return Delivery(event, record.partition, headers_of(record))


async def consume(
    records: Sequence[Any], matching: Matching, dead_letters: DeadLetterMiddleware
) -> None:
    """One transaction for the poll's events (shared/kafka/batch.py). Tombstones on the
    compacted profiles topic follow the ProfileDeleted that erased the person: skipped."""
    records = [r for r in records if r.value is not None]
    if not records:
        return

    async def handle(deliveries: Sequence[Delivery]) -> None:
        await handlers.handle_batch(deliveries, matching)

    handling = BatchHandling(parse_delivery, handle, lambda delivery: delivery.event)
    await consume_batch(records, handling, dead_letters)


def build_router(
    kafka: KafkaSettings,
    matching: Matching,
    ownership: PartitionOwnership,
    dead_letters: DeadLetterMiddleware,
) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        *(topic.qualified(kafka.topic_prefix) for topic in CONSUMED),
        **subscriber_options(kafka.group("matching"), kafka),
        batch=True,
        decoder=raw_bodies,
        # aiokafka reads only the assignor's name and methods: an instance per consumer. Range
        # is what members of an older version offer: the group uses it while one remains.
        partition_assignment_strategy=(
            cast(type[AbstractPartitionAssignor], ownership.assignor),
            RangePartitionAssignor,
        ),
        listener=ownership,
        title="matching/on_matching_events",
        description="Profiles, goals (set or adjusted), feedback and relationship steps, and "
        "mentor fan-out, co-partitioned by mentee; each poll's events are handled in order in "
        "one transaction.",
    )
    async def on_matching_events(bodies: list[bytes], message: KafkaMessage) -> None:
        records = message.raw_message
        assert isinstance(records, tuple)  # a batch subscriber
        await consume(records, matching, dead_letters)

    return router
