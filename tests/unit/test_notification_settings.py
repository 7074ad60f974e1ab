"""Notifications settings refuse header-breaking values and crash hooks in production."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from services.notifications.adapters.crash_points import crash_at
from services.notifications.service_layer.ports import no_checkpoint
from services.notifications.settings import NotificationsSettings
from shared.settings import KafkaSettings, LinkSettings

PRODUCTION = KafkaSettings(profile="production", replication_factor=3, min_insync_replicas=2)


@pytest.mark.parametrize("field", ["mail_from", "reply_to"])
def test_sender_headers_must_be_one_line(field: str) -> None:
    with pytest.raises(ValidationError, match="one line"):
        NotificationsSettings.model_validate({field: "Mentorlink <m@x.org>\r\nBcc: all@x.org"})


def test_the_crash_hook_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="test hook"):
        NotificationsSettings(kafka=PRODUCTION, crash_at="claimed")
    links = LinkSettings(signing_keys=SecretStr("s" * 32))
    assert NotificationsSettings(kafka=PRODUCTION, links=links).crash_at is None


def test_without_a_crash_point_the_checkpoint_does_nothing() -> None:
    assert crash_at(None) is no_checkpoint
    assert crash_at("") is no_checkpoint


def test_an_unknown_crash_point_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown crash point"):
        crash_at("somewhere")


def test_a_crash_point_ignores_the_other_points() -> None:
    checkpoint = crash_at("released")
    for point in ("proposal_consumed", "claimed", "before_data", "before_release", "sent_recorded"):
        checkpoint(point)  # still alive
