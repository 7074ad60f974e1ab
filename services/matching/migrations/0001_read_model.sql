-- Matching's read model, built from ProfileUpdated and GoalSet. It holds no contact details.
CREATE TABLE people (
    tenant_id   text     NOT NULL,
    user_id     text     NOT NULL,
    version     integer  NOT NULL,
    is_mentor   boolean  NOT NULL,
    is_mentee   boolean  NOT NULL,
    profile     jsonb    NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX people_mentors ON people (tenant_id) WHERE is_mentor;

CREATE TABLE goals (
    tenant_id   text     NOT NULL,
    mentee_id   text     NOT NULL,
    version     integer  NOT NULL,
    goal        jsonb    NOT NULL,
    PRIMARY KEY (tenant_id, mentee_id)
);

-- The current proposal per mentee; ranking_version only ever grows.
CREATE TABLE proposals (
    tenant_id       text        NOT NULL,
    mentee_id       text        NOT NULL,
    goal_id         text        NOT NULL,
    ranking_version integer     NOT NULL,
    proposal_id     uuid        NOT NULL,
    mentor_ids      text[]      NOT NULL,
    proposed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, mentee_id)
);
