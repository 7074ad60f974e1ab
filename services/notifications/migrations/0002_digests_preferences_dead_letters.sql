-- Quiet hours (local time in the contact's time zone); opt-out keeps being email_opt_in.
ALTER TABLE contacts
    ADD COLUMN quiet_hours_start time,
    ADD COLUMN quiet_hours_end   time,
    ADD COLUMN opted_out_at      timestamptz;

-- The newest ranking version seen per mentee: a MatchProposed with a version not above it is
-- stale and never emailed.
CREATE TABLE mentee_digests (
    tenant_id       text        NOT NULL,
    mentee_id       text        NOT NULL,
    ranking_version integer     NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, mentee_id)
);

-- A queued email replaced by a newer proposal within the digest window becomes 'superseded'.
-- The original MatchProposed (bytes, key, headers, where it was read) is kept so an email that
-- gives up can be dead-lettered with it.
ALTER TABLE emails DROP CONSTRAINT emails_state_check;
ALTER TABLE emails
    ADD CONSTRAINT emails_state_check
        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'suppressed', 'superseded')),
    ADD COLUMN ranking_version  integer NOT NULL DEFAULT 1,
    ADD COLUMN superseded_by    uuid,
    ADD COLUMN source_topic     text,
    ADD COLUMN source_partition integer,
    ADD COLUMN source_offset    bigint,
    ADD COLUMN source_value     bytea,
    ADD COLUMN source_headers   jsonb NOT NULL DEFAULT '{}'::jsonb;

-- At most one email per mentee waits to be claimed: the one new proposals replace. Rows queued
-- before this migration keep only each mentee's newest.
UPDATE emails e SET state = 'superseded', updated_at = now(),
       last_error = 'replaced by a newer proposal (migration 0002)'
 WHERE state = 'queued' AND EXISTS (
       SELECT 1 FROM emails n WHERE n.tenant_id = e.tenant_id AND n.mentee_id = e.mentee_id
          AND n.state = 'queued' AND n.id > e.id);
CREATE UNIQUE INDEX emails_one_queued_per_mentee ON emails (tenant_id, mentee_id)
    WHERE state = 'queued';
CREATE INDEX emails_sent_per_mentee ON emails (tenant_id, mentee_id, sent_at)
    WHERE state = 'sent';
