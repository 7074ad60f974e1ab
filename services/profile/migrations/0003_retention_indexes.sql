-- The retention job deletes answered links by age (shared/db/retention.py).
CREATE INDEX link_responses_age ON link_responses (responded_at);
