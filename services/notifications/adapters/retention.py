"""What the notifications retention job deletes (shared/db/retention.py)."""

from __future__ import annotations

from shared.db.retention import RetentionRule, processed_events_rule
from shared.settings import DAY_S, RetentionSettings

# Only emails that are done: never one still waiting, being sent, or dead-lettering.
FINISHED = "state IN ('released', 'sent', 'failed', 'suppressed', 'superseded')"


def retention_rules(settings: RetentionSettings) -> list[RetentionRule]:
    return [
        processed_events_rule(settings.processed_events_days),
        RetentionRule("emails", "updated_at", settings.emails_days * DAY_S, FINISHED),
    ]
