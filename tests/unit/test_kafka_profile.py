"""KAFKA_PROFILE=production: durable defaults, and no explicit setting may weaken them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.contracts.topics import PROFILES, TopicSpec
from shared.kafka.connection import producer_kwargs
from shared.kafka.topics import new_topics, topic_configs
from shared.settings import KafkaSettings


@pytest.fixture(autouse=True)
def _clean_kafka_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "KAFKA_PROFILE",
        "KAFKA_ACKS",
        "KAFKA_ENABLE_IDEMPOTENCE",
        "KAFKA_REPLICATION_FACTOR",
        "KAFKA_MIN_INSYNC_REPLICAS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_development_is_the_default_single_broker_profile() -> None:
    settings = KafkaSettings()
    assert settings.profile == "development"
    assert (settings.replication_factor, settings.min_insync_replicas) == (1, 1)


def test_production_profile_from_the_environment_sets_the_durable_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_PROFILE", "production")
    settings = KafkaSettings()
    assert settings.replication_factor == 3
    assert settings.min_insync_replicas == 2
    assert settings.acks == "all"
    assert settings.enable_idempotence is True


def test_production_producers_wait_for_all_in_sync_replicas_and_are_idempotent() -> None:
    kwargs = producer_kwargs(KafkaSettings(profile="production"))
    assert kwargs["acks"] == "all"
    assert kwargs["enable_idempotence"] is True


def test_production_topics_are_created_replicated_with_min_insync_two() -> None:
    topics = new_topics(KafkaSettings(profile="production", topic_prefix="p."), [PROFILES])
    assert [t.name for t in topics] == ["p.profiles", "p.profiles.dlq"]
    for topic in topics:
        assert topic.replication_factor == 3
        assert topic.topic_configs["min.insync.replicas"] == "2"


def test_production_may_be_made_stronger() -> None:
    settings = KafkaSettings(profile="production", replication_factor=5, min_insync_replicas=3)
    assert (settings.replication_factor, settings.min_insync_replicas) == (5, 3)


@pytest.mark.parametrize(
    "weaker",
    [
        {"acks": "1"},
        {"enable_idempotence": False},
        {"min_insync_replicas": 1},
        {"replication_factor": 2},  # min.insync.replicas 2 of 2: one broker down stops writes
    ],
)
def test_production_refuses_settings_that_can_lose_acknowledged_events(weaker: dict) -> None:
    with pytest.raises(ValidationError, match="production"):
        KafkaSettings(profile="production", **weaker)


def test_min_insync_replicas_cannot_exceed_the_replication_factor() -> None:
    with pytest.raises(ValidationError, match="min_insync_replicas"):
        KafkaSettings(replication_factor=1, min_insync_replicas=2)


def test_compacted_topics_keep_their_cleanup_policy_beside_min_insync() -> None:
    spec = TopicSpec(name="mentors", key="user id", events=(), description="", compacted=True)
    configs = topic_configs(KafkaSettings(profile="production"), spec)
    assert configs["min.insync.replicas"] == "2"
    assert configs["cleanup.policy"] == "compact"
    assert "retention.ms" not in configs  # compaction, not deletion by age
