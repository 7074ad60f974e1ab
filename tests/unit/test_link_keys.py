"""No deployment runs with a public or missing link signing key, whatever its Kafka profile.

Anyone who knows the key can forge accept, decline and unsubscribe links, so there is no default
key: the services refuse to start without one (the tests and `make dev` generate one per run).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import SecretStr, ValidationError

from services.notifications.settings import NotificationsSettings
from services.profile.settings import ProfileSettings
from shared.settings import KafkaSettings, LinkSettings

STRONG = "k" * 32
PUBLISHED = "dev-only-link-key-change-me"  # the default this repository once shipped
DEVELOPMENT = KafkaSettings(profile="development")
PRODUCTION = KafkaSettings(profile="production")


@pytest.mark.parametrize("keys", ["", " , ", PUBLISHED, "short-secret", f"{STRONG},{PUBLISHED}"])
def test_missing_published_or_short_keys_are_refused_in_any_profile(keys: str) -> None:
    with pytest.raises(ValidationError, match="LINK_SIGNING_KEYS"):
        LinkSettings(signing_keys=SecretStr(keys))


@pytest.mark.parametrize("settings", [ProfileSettings, NotificationsSettings])
def test_services_have_no_default_key(settings: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINK_SIGNING_KEYS", raising=False)
    with pytest.raises(ValidationError, match="LINK_SIGNING_KEYS is not set"):
        settings(kafka=DEVELOPMENT)


@pytest.mark.parametrize("settings", [ProfileSettings, NotificationsSettings])
@pytest.mark.parametrize("kafka", [DEVELOPMENT, PRODUCTION])
def test_strong_keys_start_in_every_profile(settings: type, kafka: KafkaSettings) -> None:
    links = LinkSettings(signing_keys=SecretStr(f"{STRONG},{'v' * 40}"))
    assert settings(kafka=kafka, links=links).links.keys()[0] == STRONG.encode()


@pytest.mark.parametrize("service", ["profile", "notifications"])
@pytest.mark.parametrize("keys", [None, PUBLISHED])
def test_a_service_without_a_real_key_exits_with_one_clear_line(
    service: str, keys: str | None
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LINK_SIGNING_KEYS"}
    if keys is not None:
        env["LINK_SIGNING_KEYS"] = keys
    result = subprocess.run(
        [sys.executable, "-m", f"services.{service}"],
        env={**env, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"},  # never reached
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"{service}: invalid settings: "), line
    assert "LINK_SIGNING_KEYS" in line and "secrets.token_urlsafe" in line
    assert PUBLISHED not in line  # input values (secrets) are never printed


@pytest.mark.parametrize("keys", ["", "short", "dev-only-erasure-key-change-me"])
def test_the_erasure_hash_key_is_required_and_never_weak_or_published(
    keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.settings import ErasureSettings

    monkeypatch.setenv("ERASURE_HASH_KEYS", keys)
    with pytest.raises(ValidationError, match="ERASURE_HASH_KEYS"):
        ErasureSettings()


def test_a_long_random_erasure_hash_key_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.settings import ErasureSettings

    monkeypatch.setenv("ERASURE_HASH_KEYS", "k" * 8 + "-a-secret-of-forty-characters-x")
    assert len(ErasureSettings().keys()[0]) >= 32
