"""Create the project's topics (and their dead-letter twins) if they do not exist."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.contracts.topics import TopicSpec
from shared.kafka.connection import client_kwargs
from shared.settings import KafkaSettings


def topic_configs(settings: KafkaSettings, spec: TopicSpec) -> dict[str, str]:
    """Per-topic configs: min.insync.replicas makes acks=all mean "on that many replicas"."""
    config = {"min.insync.replicas": str(settings.min_insync_replicas)}
    if spec.compacted:
        config["cleanup.policy"] = "compact"
    return config


def new_topics(settings: KafkaSettings, specs: Iterable[TopicSpec]) -> list[NewTopic]:
    topics = []
    for spec in specs:
        config = topic_configs(settings, spec)
        for name in (
            spec.qualified(settings.topic_prefix),
            spec.dead_letter(settings.topic_prefix),
        ):
            topics.append(
                NewTopic(
                    name, settings.partitions, settings.replication_factor, topic_configs=config
                )
            )
    return topics


async def ensure_topics(settings: KafkaSettings, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the missing topics; returns the names this call asked the broker to create."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in new_topics(settings, specs) if t.name not in existing]
        if not missing:
            return []
        with contextlib.suppress(TopicAlreadyExistsError):  # another instance was first
            await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()
