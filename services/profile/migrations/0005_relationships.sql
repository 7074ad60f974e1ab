-- Relationships (issue 28): one row from "Request an intro" to the end. A requested or active
-- row holds one of the mentor's seats; the profile service is the one place seats are counted.
CREATE TABLE relationships (
    request_id      uuid        PRIMARY KEY,
    tenant_id       text        NOT NULL,
    mentee_id       text        NOT NULL,
    mentor_id       text        NOT NULL,
    goal_id         text        NOT NULL,
    proposal_id     uuid,
    state           text        NOT NULL
        CHECK (state IN ('requested', 'active', 'declined', 'expired', 'ended')),
    version         integer     NOT NULL,
    requested_at    timestamptz NOT NULL,
    deadline        timestamptz NOT NULL,
    remind_at       timestamptz NOT NULL,
    reminded_at     timestamptz,
    started_at      timestamptz,
    fit_check_at    timestamptz,
    fit_checked_at  timestamptz,
    fit_answers     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    ended_at        timestamptz,
    ended_by        text,
    reason          text,
    rating          integer     CHECK (rating BETWEEN 1 AND 5),
    never_again     boolean     NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- A proposal's "Request an intro" link makes one request, however often it is followed.
CREATE UNIQUE INDEX relationships_proposal ON relationships (tenant_id, proposal_id, mentor_id);
CREATE INDEX relationships_mentee ON relationships (tenant_id, mentee_id, requested_at);
CREATE INDEX relationships_mentor ON relationships (tenant_id, mentor_id, requested_at);
CREATE INDEX relationships_listing ON relationships (tenant_id, requested_at, request_id);
-- The scheduler's three timers, each over the rows still waiting for it.
CREATE INDEX relationships_reminders ON relationships (remind_at)
    WHERE state = 'requested' AND reminded_at IS NULL;
CREATE INDEX relationships_deadlines ON relationships (deadline) WHERE state = 'requested';
CREATE INDEX relationships_fit_checks ON relationships (fit_check_at)
    WHERE state = 'active' AND fit_checked_at IS NULL;

-- Per-tenant lifecycle terms; a null column takes the service-wide default (ProfileSettings).
CREATE TABLE tenant_settings (
    tenant_id             text     PRIMARY KEY,
    request_deadline_days integer  CHECK (request_deadline_days BETWEEN 1 AND 60),
    fit_check_days        integer  CHECK (fit_check_days BETWEEN 1 AND 180),
    open_requests_limit   integer  CHECK (open_requests_limit BETWEEN 1 AND 20),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- What the learning rule changed, so an undo link restores the goal's weights and styles.
CREATE TABLE preference_adjustments (
    adjustment_id  uuid        PRIMARY KEY,
    tenant_id      text        NOT NULL,
    mentee_id      text        NOT NULL,
    goal_id        text        NOT NULL,
    mentor_id      text,
    before         jsonb       NOT NULL,
    undone_at      timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX preference_adjustments_mentee ON preference_adjustments (tenant_id, mentee_id);
CREATE INDEX preference_adjustments_mentor ON preference_adjustments (tenant_id, mentor_id);

-- Requests accepted before relationships existed (MatchAccepted, no mentor answer) are active
-- relationships now, unless the same proposal's mentor was declined afterwards. The seat
-- counts these rows make are published by the service at start (reconcile_seats).
INSERT INTO relationships (request_id, tenant_id, mentee_id, mentor_id, goal_id, proposal_id,
                           state, version, requested_at, deadline, remind_at, reminded_at,
                           started_at, fit_check_at, fit_checked_at)
SELECT gen_random_uuid(), a.tenant_id, a.mentee_id, a.mentor_id,
       coalesce(g.goal ->> 'goal_id', 'unknown'), a.proposal_id, 'active', 1,
       a.responded_at, a.responded_at, a.responded_at, a.responded_at,
       a.responded_at, a.responded_at, a.responded_at
FROM link_responses a
LEFT JOIN goals g ON g.tenant_id = a.tenant_id AND g.mentee_id = a.mentee_id
WHERE a.action = 'accept'
  AND NOT EXISTS (
      SELECT 1 FROM link_responses d
      WHERE d.tenant_id = a.tenant_id AND d.proposal_id = a.proposal_id
        AND d.mentor_id = a.mentor_id AND d.action = 'decline');
