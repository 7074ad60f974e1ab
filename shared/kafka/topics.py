"""Create the project's topics (and their dead-letter twins) with their retention policy, and
bring the policy of topics that already exist up to date (docs/operations.md, Topic retention).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.contracts.topics import TopicSpec
from shared.kafka.connection import client_kwargs
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

MS_PER_HOUR = 3_600_000
DYNAMIC_TOPIC_CONFIG = 1  # describe_configs' config_source: set on the topic itself


def _ms(hours: float) -> str:
    return str(int(hours * MS_PER_HOUR))


def topic_configs(settings: KafkaSettings, spec: TopicSpec) -> dict[str, str]:
    """A topic's configs: min.insync.replicas makes acks=all mean "on that many replicas"; a
    compacted topic keeps the newest record per key and drops a key's records a bounded time
    after its tombstone; every other topic deletes records past its retention."""
    config = {"min.insync.replicas": str(settings.min_insync_replicas)}
    if spec.compacted:
        grace = _ms(settings.erasure_grace_hours)
        config |= {
            "cleanup.policy": "compact",
            "min.compaction.lag.ms": grace,  # ProfileDeleted stays readable at least this long
            "max.compaction.lag.ms": _ms(settings.compaction_max_lag_hours),
            # the open segment is never compacted: roll it hourly (sooner with a shorter lag)
            "segment.ms": _ms(min(1.0, settings.compaction_max_lag_hours)),
            "delete.retention.ms": grace,  # and so does the tombstone, once compacted
        }
    else:
        config |= {"cleanup.policy": "delete", "retention.ms": _ms(settings.retention_days * 24)}
    return config


def dead_letter_configs(settings: KafkaSettings) -> dict[str, str]:
    """Dead letters are kept (not compacted: two letters about one person are both needed)
    for as long as an operator may replay them."""
    return {
        "min.insync.replicas": str(settings.min_insync_replicas),
        "cleanup.policy": "delete",
        "retention.ms": _ms(settings.dead_letter_retention_days * 24),
    }


def wanted_configs(
    settings: KafkaSettings, specs: Iterable[TopicSpec]
) -> dict[str, dict[str, str]]:
    """Every topic of `specs` and its dead-letter twin, by qualified name, with its configs."""
    wanted = {}
    for spec in specs:
        wanted[spec.qualified(settings.topic_prefix)] = topic_configs(settings, spec)
        wanted[spec.dead_letter(settings.topic_prefix)] = dead_letter_configs(settings)
    return wanted


def new_topics(settings: KafkaSettings, specs: Iterable[TopicSpec]) -> list[NewTopic]:
    return [
        NewTopic(name, settings.partitions, settings.replication_factor, topic_configs=config)
        for name, config in wanted_configs(settings, specs).items()
    ]


async def ensure_topics(settings: KafkaSettings, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the missing topics and align the configs of the others; returns the names this
    call asked the broker to create."""
    wanted = wanted_configs(settings, specs)
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in new_topics(settings, specs) if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another instance was first
                await admin.create_topics(missing)
        try:  # every topic: one "missing" a moment ago may have been created by another
            await align_configs(admin, wanted)
        except KafkaError as exc:  # a broker without AlterConfigs (the embedded one)
            log.warning("topic configs not checked: %s", type(exc).__name__)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def align_configs(admin: AIOKafkaAdminClient, wanted: dict[str, dict[str, str]]) -> list[str]:
    """Set the wanted configs on existing topics that differ; returns the names altered.

    AlterConfigs replaces a topic's whole set of topic-level configs, so the others an operator
    set on the topic are sent back with ours."""
    if not wanted:
        return []
    current = await topic_level_configs(admin, list(wanted))
    stale = {
        name: {**current.get(name, {}), **config}
        for name, config in wanted.items()
        if any(current.get(name, {}).get(k) != v for k, v in config.items())
    }
    if stale:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n, configs=c) for n, c in stale.items()]
        )
        log.info("topic configs updated: %s", sorted(stale))
    return sorted(stale)


async def topic_level_configs(
    admin: AIOKafkaAdminClient, names: list[str]
) -> dict[str, dict[str, str]]:
    """The configs set on each topic itself (not the broker's defaults)."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    configs: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            configs[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"]
                for entry in resource["config_entries"]
                if entry["config_source"] == DYNAMIC_TOPIC_CONFIG
            }
    return configs
