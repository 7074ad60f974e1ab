"""What the profile retention job deletes (shared/db/retention.py)."""

from __future__ import annotations

from shared.db.retention import RetentionRule, processed_events_rule
from shared.settings import DAY_S, RetentionSettings


def retention_rules(settings: RetentionSettings) -> list[RetentionRule]:
    return [
        processed_events_rule(settings.processed_events_days),
        RetentionRule("link_responses", "responded_at", settings.link_responses_days * DAY_S),
    ]
