-- Issue 28: the profile service counts seats (held requests + active relationships) and
-- publishes them in the mentor's ProfileUpdated (`seats_taken`); matching keeps only the
-- newest state of each relationship, to know whom not to propose and which goal waits
-- (services/matching/domain/relationships.py).

-- Seats taken so far move into the stored mentor, until the profile service's next
-- ProfileUpdated (a newer version) states them.
UPDATE people AS p
SET features = jsonb_set(p.features::jsonb, '{seats_taken}', to_jsonb(l.accepted))::text
FROM mentor_load AS l
WHERE l.tenant_id = p.tenant_id AND l.mentor_id = p.user_id AND p.is_mentor AND l.accepted > 0;
DROP TABLE mentor_load;

-- An accept parked until its mentor arrived now only keeps the pair apart, as every accept does.
UPDATE pairs SET state = 'accepted' WHERE state = 'accept_parked';
ALTER TABLE pairs DROP CONSTRAINT pairs_state_check;
ALTER TABLE pairs ADD CONSTRAINT pairs_state_check CHECK (state IN ('accepted', 'declined'));
CREATE INDEX pairs_mentee ON pairs (tenant_id, mentee_id);

CREATE TABLE relationships (
    tenant_id   text     NOT NULL,
    request_id  uuid     NOT NULL,
    mentee_id   text     NOT NULL,
    mentor_id   text     NOT NULL,
    goal_id     text     NOT NULL,
    partition   integer  NOT NULL,  -- the mentee's
    state       text     NOT NULL
        CHECK (state IN ('requested', 'active', 'declined', 'expired', 'ended')),
    version     integer  NOT NULL,
    never_again boolean  NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, request_id)
);
CREATE INDEX relationships_mentee ON relationships (tenant_id, mentee_id);
CREATE INDEX relationships_mentor ON relationships (tenant_id, mentor_id, partition);
CREATE INDEX relationships_partition ON relationships (partition);
