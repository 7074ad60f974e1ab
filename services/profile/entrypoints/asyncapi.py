"""The profile service's AsyncAPI: what it consumes (ingress) and publishes (through the outbox)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from services.profile.entrypoints.ingress import document_ingress
from shared.contracts.feedback import MatchDeclined
from shared.contracts.goals import GoalSet
from shared.contracts.lifecycle import LIFECYCLE_EVENTS
from shared.contracts.preferences import PreferencesAdjusted
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.contracts.topics import FEEDBACK, GOALS, PROFILES, TopicSpec
from shared.settings import KafkaSettings


def document_broker(kafka: KafkaSettings) -> KafkaBroker:
    broker = KafkaBroker(kafka.bootstrap_servers)
    published: list[tuple[TopicSpec, type]] = [
        (PROFILES, ProfileUpdated),
        (PROFILES, ProfileDeleted),
        (GOALS, GoalSet),
        (GOALS, PreferencesAdjusted),
        (FEEDBACK, MatchDeclined),
        *((FEEDBACK, event) for event in LIFECYCLE_EVENTS),
    ]
    for topic, event in published:
        broker.publisher(
            topic.qualified(kafka.topic_prefix),
            title=f"profile/{event.__name__}",
            schema=event,
            description=f"{topic.description} Key: {topic.key}.",
        )
    document_ingress(broker, kafka)
    return broker
