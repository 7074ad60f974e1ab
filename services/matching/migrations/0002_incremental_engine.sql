-- The incremental engine's state: everything it needs to restart without re-scoring.
-- The walking skeleton's read model is replaced; it is rebuilt from the profile topics.
DROP TABLE IF EXISTS people, goals, proposals;

CREATE TABLE people (
    tenant_id   text     NOT NULL,
    user_id     text     NOT NULL,
    version     integer  NOT NULL,
    partition   integer  NOT NULL,
    is_mentor   boolean  NOT NULL,
    is_mentee   boolean  NOT NULL,
    capacity    integer  NOT NULL,
    features    text     NOT NULL,  -- what scoring needs; never contact details
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX people_mentors ON people (tenant_id) WHERE is_mentor;
CREATE INDEX people_partition ON people (partition) WHERE is_mentee;

CREATE TABLE goals (
    tenant_id   text     NOT NULL,
    mentee_id   text     NOT NULL,
    version     integer  NOT NULL,
    partition   integer  NOT NULL,
    goal        text     NOT NULL,
    PRIMARY KEY (tenant_id, mentee_id)
);
CREATE INDEX goals_partition ON goals (partition);

-- Seats taken: the one place where an accept consumes a mentor's capacity.
CREATE TABLE mentor_load (
    tenant_id   text     NOT NULL,
    mentor_id   text     NOT NULL,
    accepted    integer  NOT NULL DEFAULT 0 CHECK (accepted >= 0),
    PRIMARY KEY (tenant_id, mentor_id)
);

-- Accepted, declined, or accepted before the mentor was known (parked).
CREATE TABLE pairs (
    tenant_id   text     NOT NULL,
    mentee_id   text     NOT NULL,
    mentor_id   text     NOT NULL,
    partition   integer  NOT NULL,
    state       text     NOT NULL CHECK (state IN ('accepted', 'declined', 'accept_parked')),
    PRIMARY KEY (tenant_id, mentee_id, mentor_id)
);
CREATE INDEX pairs_mentor ON pairs (tenant_id, mentor_id);
CREATE INDEX pairs_partition ON pairs (partition);

-- Each mentor's best mentees per partition (exposure cap + reserve), as the engine keeps them.
CREATE TABLE mentor_lists (
    tenant_id   text     NOT NULL,
    mentor_id   text     NOT NULL,
    partition   integer  NOT NULL,
    mentee_ids  text[]   NOT NULL,
    scores      float8[] NOT NULL,
    truncated   boolean  NOT NULL,
    PRIMARY KEY (tenant_id, mentor_id, partition)
);
CREATE INDEX mentor_lists_partition ON mentor_lists (partition);

-- The current proposal per mentee; ranking_version only ever grows.
CREATE TABLE proposals (
    tenant_id       text        NOT NULL,
    mentee_id       text        NOT NULL,
    partition       integer     NOT NULL,
    goal_id         text        NOT NULL,
    ranking_version integer     NOT NULL,
    proposal_id     uuid        NOT NULL,
    mentor_ids      text[]      NOT NULL,
    proposed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, mentee_id)
);
