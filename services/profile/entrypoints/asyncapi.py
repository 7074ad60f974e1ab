"""The profile service's AsyncAPI: what it publishes (through the outbox)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.contracts.topics import GOALS, PROFILES
from shared.settings import KafkaSettings


def document_broker(kafka: KafkaSettings) -> KafkaBroker:
    broker = KafkaBroker(kafka.bootstrap_servers)
    profiles = PROFILES.qualified(kafka.topic_prefix)
    for event in (ProfileUpdated, ProfileDeleted):
        broker.publisher(
            profiles,
            title=f"profile/{event.__name__}",
            schema=event,
            description=f"{PROFILES.description} Key: {PROFILES.key}.",
        )
    broker.publisher(
        GOALS.qualified(kafka.topic_prefix),
        title="profile/GoalSet",
        schema=GoalSet,
        description=f"{GOALS.description} Key: {GOALS.key}.",
    )
    return broker
