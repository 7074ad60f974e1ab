-- The retention job deletes finished emails by age (shared/db/retention.py); this index finds
-- them without scanning the emails still in flight.
CREATE INDEX emails_finished_age ON emails (updated_at)
    WHERE state IN ('released', 'sent', 'failed', 'suppressed', 'superseded');
