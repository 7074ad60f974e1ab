-- Emails a mentee is waiting for (the answer to their own goal, profile or decline, or the
-- first proposal with mentors for their goal) are claimed before refreshes that other people's
-- changes brought. A refresh due for NOTIFICATIONS_REFRESH_HOLD_S is marked awaited by the next
-- claim and joins them in due order (ADR 0003).
ALTER TABLE emails ADD COLUMN awaited boolean NOT NULL DEFAULT true;
DROP INDEX emails_due;
CREATE INDEX emails_due ON emails (awaited DESC, next_attempt_at)
    WHERE state IN ('queued', 'sending');
