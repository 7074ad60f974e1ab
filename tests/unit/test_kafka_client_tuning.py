"""Producer batching and fetch sizes come from the settings (KAFKA_LINGER_MS, KAFKA_FETCH_*)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

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
    for name in ("KAFKA_LINGER_MS", "KAFKA_FETCH_MAX_WAIT_MS", "KAFKA_FETCH_MIN_BYTES"):
        monkeypatch.delenv(name, raising=False)
    options = subscriber_options("group")
    assert (options["fetch_max_wait_ms"], options["fetch_min_bytes"]) == (500, 1)
    assert producer_kwargs(KafkaSettings())["linger_ms"] == 0


def test_a_fetch_needs_at_least_one_byte() -> None:
    with pytest.raises(ValidationError):
        KafkaSettings(fetch_min_bytes=0)
