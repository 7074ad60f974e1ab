-- Relationship lifecycle emails (issue 28, docs/lifecycle.md) go through the same rows, claims
-- and `released` record as proposal emails, so each is sent exactly once too. `kind` says which
-- email a row is; `mentee_id` is its recipient (a mentor, for a request); `lifecycle` holds what
-- it says (domain/lifecycle.py), `proposal_id` the relationship's request id and
-- `ranking_version` the relationship's event version. The digest rules (one waiting email per
-- mentee, newer rankings replace older ones) concern proposals only.
ALTER TABLE emails
    ADD COLUMN kind text NOT NULL DEFAULT 'proposal'
        CHECK (kind IN ('proposal', 'mentor_request', 'request_reminder', 'introduction',
                        'fit_check', 'relationship_ended')),
    ADD COLUMN lifecycle jsonb,
    ALTER COLUMN proposal DROP NOT NULL,
    ADD CONSTRAINT emails_kind_content CHECK ((kind = 'proposal') = (proposal IS NOT NULL)
                                              AND (kind = 'proposal') = (lifecycle IS NULL));
DROP INDEX emails_one_queued_per_mentee;
CREATE UNIQUE INDEX emails_one_queued_per_mentee ON emails (tenant_id, mentee_id)
    WHERE state = 'queued' AND kind = 'proposal';
CREATE INDEX emails_relationship ON emails (tenant_id, proposal_id) WHERE kind <> 'proposal';
-- Who the other person of a lifecycle email is, so erasing them withdraws it.
CREATE INDEX emails_naming ON emails (tenant_id, (lifecycle ->> 'other_id'))
    WHERE kind <> 'proposal';

-- Each relationship's newest event version: an older or repeated one sends nothing.
CREATE TABLE relationship_versions (
    tenant_id  text    NOT NULL,
    request_id uuid    NOT NULL,
    version    integer NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
);

-- Goal statements, from GoalSet and PreferencesAdjusted (newest goal version wins): the
-- mentor's request email quotes what the mentee wants to grow.
CREATE TABLE goal_statements (
    tenant_id text    NOT NULL,
    mentee_id text    NOT NULL,
    goal_id   text    NOT NULL,
    version   integer NOT NULL,
    statement text    NOT NULL,
    PRIMARY KEY (tenant_id, mentee_id, goal_id)
);
