"""Producer batching and fetch sizes come from the settings (KAFKA_LINGER_MS, KAFKA_FETCH_*)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from devenv.infra import EMBEDDED_GROUP_TIMING, KafkaEndpoint
from shared.kafka.connection import producer_kwargs
from shared.kafka.consumer import subscriber_options
from shared.settings import KafkaSettings


def test_consumers_fetch_as_the_settings_say() -> None:
    settings = KafkaSettings(fetch_max_wait_ms=25, fetch_min_bytes=65536)
    options = subscriber_options("group", settings)
    assert (options["fetch_max_wait_ms"], options["fetch_min_bytes"]) == (25, 65536)


def test_producers_linger_as_the_settings_say() -> None:
    assert producer_kwargs(KafkaSettings(linger_ms=5))["linger_ms"] == 5


def test_defaults_answer_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fetch returns with the first byte; a producer holds a request a few milliseconds; a
    batch subscriber's poll returns with the first records, so its wait can be long (an idle
    one wakes about once a second: tests/integration/test_batch_poll.py)."""
    for name in (
        "KAFKA_LINGER_MS",
        "KAFKA_FETCH_MAX_WAIT_MS",
        "KAFKA_FETCH_MIN_BYTES",
        "KAFKA_BATCH_POLL_MS",
    ):
        monkeypatch.delenv(name, raising=False)
    options = subscriber_options("group")
    assert (options["fetch_max_wait_ms"], options["fetch_min_bytes"]) == (500, 1)
    assert options["batch_timeout_ms"] >= 500
    assert producer_kwargs(KafkaSettings())["linger_ms"] <= 5


def test_batch_subscribers_poll_as_the_settings_say() -> None:
    assert subscriber_options("group", KafkaSettings(batch_poll_ms=50))["batch_timeout_ms"] == 50


def test_a_fetch_needs_at_least_one_byte() -> None:
    with pytest.raises(ValidationError):
        KafkaSettings(fetch_min_bytes=0)


def test_consumers_keep_their_group_as_the_settings_say() -> None:
    settings = KafkaSettings(session_timeout_ms=2000, heartbeat_interval_ms=500)
    options = subscriber_options("group", settings)
    assert (options["session_timeout_ms"], options["heartbeat_interval_ms"]) == (2000, 500)


def test_a_heartbeat_must_come_within_the_session() -> None:
    with pytest.raises(ValidationError):
        KafkaSettings(session_timeout_ms=2000, heartbeat_interval_ms=2000)


def test_services_started_by_devenv_get_the_brokers_group_timing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tests build KafkaSettings from endpoint.settings(), `make dev` passes endpoint.env()
    to the services: both carry the embedded broker's shorter session (devenv/infra.py)."""
    embedded = KafkaEndpoint(
        "127.0.0.1:1", "embedded", False, group_timing=dict(EMBEDDED_GROUP_TIMING)
    )
    for name, value in embedded.env().items():
        monkeypatch.setenv(name, value)
    from_env = KafkaSettings()
    assert from_env == KafkaSettings(**embedded.settings())  # type: ignore[arg-type]
    options = subscriber_options("group", from_env)
    assert options["session_timeout_ms"] == EMBEDDED_GROUP_TIMING["session_timeout_ms"] < 10_000
    assert from_env.enable_idempotence is False


def test_apache_kafka_keeps_a_session_timeout_it_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    apache = KafkaEndpoint("127.0.0.1:1", "apache", True)
    for name, value in apache.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KAFKA_SESSION_TIMEOUT_MS", raising=False)
    monkeypatch.delenv("KAFKA_HEARTBEAT_INTERVAL_MS", raising=False)
    assert "KAFKA_SESSION_TIMEOUT_MS" not in apache.env()
    assert KafkaSettings().session_timeout_ms >= 6000  # group.min.session.timeout.ms
