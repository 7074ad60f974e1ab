"""One FastStream subscriber over the four co-partitioned topics: validate, hand off, return.

Goals, feedback and profiles are keyed by person and `matching.mentors` copies go to explicit
partitions, so partition N of every topic belongs to the same instance (range assignment):
that instance owns the mentees of partition N, in event order, and restores their state from
PostgreSQL when the partition is assigned.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, TypeAlias

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field

from services.matching.domain.events import MENTOR_FEED, MentorChanged
from services.matching.service_layer import handlers
from services.matching.service_layer.handlers import Matching
from shared.contracts.feedback import MatchAccepted, MatchDeclined
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.contracts.topics import FEEDBACK, GOALS, PROFILES
from shared.kafka.consumer import subscriber_options
from shared.logs import bind_event
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

MatchingEvent: TypeAlias = Annotated[
    ProfileUpdated | ProfileDeleted | GoalSet | MatchAccepted | MatchDeclined | MentorChanged,
    Field(discriminator="event_type"),
]
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


async def dispatch(event: Any, partition: int, matching: Matching) -> None:
    if isinstance(event, ProfileUpdated):
        await handlers.record_profile(event, partition, matching)
    elif isinstance(event, ProfileDeleted):
        await handlers.forget_profile(event, partition, matching)
    elif isinstance(event, GoalSet):
        await handlers.record_goal(event, partition, matching)
    elif isinstance(event, MentorChanged):
        await handlers.refresh_mentor(event, partition, matching)
    else:
        await handlers.record_feedback(event, partition, matching)


def build_router(
    kafka: KafkaSettings, matching: Matching, ownership: PartitionOwnership
) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        *(topic.qualified(kafka.topic_prefix) for topic in CONSUMED),
        **subscriber_options(kafka.group("matching")),
        partition_assignment_strategy=(RangePartitionAssignor,),
        listener=ownership,
        title="matching/on_matching_events",
        description="Profiles, goals, feedback and mentor fan-out, co-partitioned by mentee.",
    )
    async def on_matching_events(event: MatchingEvent, message: KafkaMessage) -> None:
        bind_event(event.event_id, event.correlation_id)
        await dispatch(event, message.raw_message.partition, matching)  # type: ignore[union-attr]

    return router
