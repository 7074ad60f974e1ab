"""Topic retention and compaction on a real broker: the services create each topic with its
policy, and bring a topic created earlier without one up to date, keeping what an operator set."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.contracts.topics import GOALS, PROFILES
from shared.kafka.connection import client_kwargs
from shared.kafka.topics import ensure_topics
from tests.support.erasure_scan import topic_policies
from tests.support.platform import kafka_settings
from tests.support.polling import eventually

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@pytest.mark.broker_feature("topic_configs")
async def test_new_topics_get_their_policy(kafka_endpoint, topic_prefix) -> None:
    kafka = kafka_settings(kafka_endpoint, topic_prefix)
    await ensure_topics(kafka, [PROFILES, GOALS])
    names = [PROFILES.qualified(topic_prefix), PROFILES.dead_letter(topic_prefix)]
    names += [GOALS.qualified(topic_prefix)]

    configs = await topic_policies(kafka, names)
    profiles, profiles_dlq, goals = (configs[name] for name in names)

    assert profiles["cleanup.policy"] == "compact"
    assert profiles["min.compaction.lag.ms"] == str(DAY_MS)
    assert profiles["max.compaction.lag.ms"] == str(DAY_MS)
    assert profiles["delete.retention.ms"] == str(DAY_MS)
    assert profiles["segment.ms"] == str(HOUR_MS)
    assert profiles_dlq["cleanup.policy"] == "delete"  # two letters about one person: both kept
    assert profiles_dlq["retention.ms"] == str(14 * DAY_MS)
    assert goals["cleanup.policy"] == "delete"
    assert goals["retention.ms"] == str(7 * DAY_MS)


@pytest.mark.broker_feature("topic_configs")
async def test_an_existing_topic_is_brought_up_to_date(kafka_endpoint, topic_prefix) -> None:
    kafka = kafka_settings(kafka_endpoint, topic_prefix)
    name = PROFILES.qualified(topic_prefix)
    admin = AIOKafkaAdminClient(**client_kwargs(kafka))
    await admin.start()
    try:  # as an older version created it, plus a setting of the operator's own
        config = {"max.message.bytes": "2000000"}
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs=config)])
    finally:
        await admin.close()

    await ensure_topics(kafka, [PROFILES])

    async def compacted() -> dict[str, str] | None:  # the broker applies it a moment later
        policy = (await topic_policies(kafka, [name]))[name]
        return policy if policy.get("cleanup.policy") == "compact" else None

    updated = await eventually(compacted, timeout=30, what="the compaction policy applied")
    assert updated["max.message.bytes"] == "2000000"
