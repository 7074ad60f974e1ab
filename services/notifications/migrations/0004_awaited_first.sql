-- Emails a mentee is waiting for (the answer to their own goal, profile or decline, or the
-- first proposal with mentors for their goal) are claimed before refreshes that other people's
-- changes brought. A refresh waits at most behind the awaited emails due before it is claimed;
-- there is at most one waiting email per mentee, so the refreshes held back stay bounded.
ALTER TABLE emails ADD COLUMN awaited boolean NOT NULL DEFAULT true;
DROP INDEX emails_due;
CREATE INDEX emails_due ON emails (awaited DESC, next_attempt_at)
    WHERE state IN ('queued', 'sending');
