"""Under the production profile, the public development link key (and short keys) are refused."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from services.notifications.settings import NotificationsSettings
from services.profile.settings import ProfileSettings
from shared.settings import DEV_LINK_KEY, KafkaSettings, LinkSettings

STRONG = "k" * 32
PRODUCTION = KafkaSettings(profile="production")


@pytest.mark.parametrize("settings", [ProfileSettings, NotificationsSettings])
@pytest.mark.parametrize("keys", [DEV_LINK_KEY, "short-secret", f"{STRONG},{DEV_LINK_KEY}", " , "])
def test_services_refuse_weak_link_keys_in_production(settings: type, keys: str) -> None:
    links = LinkSettings(signing_keys=SecretStr(keys))
    with pytest.raises(ValidationError, match="LINK_SIGNING_KEYS"):
        settings(kafka=PRODUCTION, links=links)


@pytest.mark.parametrize("settings", [ProfileSettings, NotificationsSettings])
def test_strong_keys_start_in_production_and_the_default_still_starts_in_development(
    settings: type,
) -> None:
    settings(kafka=PRODUCTION, links=LinkSettings(signing_keys=SecretStr(f"{STRONG},{'v' * 40}")))
    settings(kafka=KafkaSettings(profile="development"), links=LinkSettings())
