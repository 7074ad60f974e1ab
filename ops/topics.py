"""Create the Mentorlink topics and describe them (partitions, leaders, configs, end offsets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from ops.kafka_clients import admin_client, reader
from shared.contracts.topics import TOPICS
from shared.kafka.topics import ensure_topics
from shared.settings import KafkaSettings

SHOWN_CONFIGS = ("min.insync.replicas", "cleanup.policy", "retention.ms")
DYNAMIC_TOPIC_CONFIG = 1  # config_source: set on the topic itself


@dataclass(frozen=True)
class PartitionInfo:
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    end_offset: int


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: tuple[PartitionInfo, ...]
    configs: dict[str, str]

    @property
    def under_replicated(self) -> bool:
        return any(len(p.isr) < len(p.replicas) for p in self.partitions)


def mentorlink_topics(settings: KafkaSettings) -> list[str]:
    prefix = settings.topic_prefix
    return [name for spec in TOPICS for name in (spec.qualified(prefix), spec.dead_letter(prefix))]


async def create_topics(settings: KafkaSettings) -> list[str]:
    """Create the missing Mentorlink topics; returns the names that were missing."""
    return await ensure_topics(settings, TOPICS)


async def describe_topics(settings: KafkaSettings) -> tuple[list[TopicInfo], list[str]]:
    """The Mentorlink topics that exist, and the names of those that do not."""
    wanted = mentorlink_topics(settings)
    async with admin_client(settings) as admin:
        existing = set(await admin.list_topics())
        names = [name for name in wanted if name in existing]
        metadata = await admin.describe_topics(names) if names else []
        configs = await _topic_configs(admin, names)
    async with reader(settings) as consumer:
        ends = await consumer.end_offsets(
            [TopicPartition(t["topic"], p["partition"]) for t in metadata for p in t["partitions"]]
        )
    infos = [_topic_info(topic, configs.get(topic["topic"], {}), ends) for topic in metadata]
    order = {name: index for index, name in enumerate(wanted)}
    infos.sort(key=lambda info: order[info.name])
    return infos, [name for name in wanted if name not in existing]


async def _topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    responses = await admin.describe_configs(resources)
    configs: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            configs[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"]
                for entry in resource["config_entries"]
                if entry["config_names"] in SHOWN_CONFIGS
                or entry["config_source"] == DYNAMIC_TOPIC_CONFIG
            }
    return configs


def _topic_info(
    topic: dict[str, Any], configs: dict[str, str], ends: dict[TopicPartition, int]
) -> TopicInfo:
    name = str(topic["topic"])
    partitions = tuple(
        PartitionInfo(
            partition=p["partition"],
            leader=p["leader"],
            replicas=tuple(p["replicas"]),
            isr=tuple(p["isr"]),
            end_offset=ends[TopicPartition(name, p["partition"])],
        )
        for p in sorted(topic["partitions"], key=lambda p: p["partition"])
    )
    return TopicInfo(name, partitions, configs)
