"""The client timeouts that bound a failover (docs/operations.md, "A machine that vanishes")."""

from __future__ import annotations

from shared.kafka.connection import client_kwargs
from shared.kafka.join_group import join_group_timeout_s
from shared.settings import KafkaSettings


def test_the_production_profile_gives_up_on_a_silent_broker_after_5_s() -> None:
    production = KafkaSettings(profile="production")
    assert client_kwargs(production)["request_timeout_ms"] == 5000
    assert client_kwargs(KafkaSettings())["request_timeout_ms"] == 10_000


def test_an_operator_s_request_timeout_wins_over_the_profile() -> None:
    chosen = KafkaSettings(profile="production", connect_timeout_s=10)
    assert client_kwargs(chosen)["request_timeout_ms"] == 10_000


def test_a_join_waits_for_the_rebalance_timeout_and_5_s_more() -> None:
    assert join_group_timeout_s(5.0, rebalance_timeout_ms=10_000) == 15.0
    assert join_group_timeout_s(40.0, rebalance_timeout_ms=10_000) == 40.0
