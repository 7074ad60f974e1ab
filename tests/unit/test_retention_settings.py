"""Retention windows that would break a guarantee are refused at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.profile.settings import ProfileSettings
from shared.settings import KafkaSettings, LinkSettings, RetentionSettings, ServiceSettings


def test_handled_event_ids_must_outlive_every_topic_a_copy_can_come_back_from() -> None:
    kafka = KafkaSettings(retention_days=7, dead_letter_retention_days=14)
    with pytest.raises(ValidationError, match="RETENTION_PROCESSED_EVENTS_DAYS"):
        ServiceSettings(kafka=kafka, retention=RetentionSettings(processed_events_days=10))
    ServiceSettings(kafka=kafka, retention=RetentionSettings(processed_events_days=14))


def test_link_answers_must_outlive_the_links() -> None:
    with pytest.raises(ValidationError, match="RETENTION_LINK_RESPONSES_DAYS"):
        ProfileSettings(
            links=LinkSettings(ttl_days=30), retention=RetentionSettings(link_responses_days=20)
        )
