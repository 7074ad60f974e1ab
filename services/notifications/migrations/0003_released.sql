-- 'released': the end of the message was written to the SMTP server together with this record,
-- and the server's reply is not recorded yet (ADR 0003). It counts as sent everywhere: a crash
-- after the release leaves it, and the server has the message.
ALTER TABLE emails DROP CONSTRAINT emails_state_check;
ALTER TABLE emails
    ADD CONSTRAINT emails_state_check
        CHECK (state IN ('queued', 'sending', 'released', 'sent', 'failed', 'suppressed',
                         'superseded'));
DROP INDEX emails_sent_per_mentee;
CREATE INDEX emails_sent_per_mentee ON emails (tenant_id, mentee_id, sent_at)
    WHERE state IN ('released', 'sent');
