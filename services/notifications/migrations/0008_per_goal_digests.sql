-- Proposals per goal (ADR 0012): a mentee holding several goals has, for each goal, its own
-- newest ranking version, its own waiting email and its own current proposal. One goal's
-- proposal never replaces or withdraws another goal's email.

-- Which goal an email is about: a proposal's goal, or the goal of a relationship's email.
-- Computed from what the row holds, so every row has it, from before this migration too.
ALTER TABLE emails ADD COLUMN goal_id text NOT NULL GENERATED ALWAYS AS
    (coalesce(proposal ->> 'goal_id', lifecycle ->> 'goal_id', 'default')) STORED;

-- Digests are per goal. An existing digest takes the goal of its mentee's newest proposal
-- email (until now a mentee held one goal at a time); without one, the goal `default`.
ALTER TABLE mentee_digests ADD COLUMN goal_id text NOT NULL DEFAULT 'default';
UPDATE mentee_digests d SET goal_id = newest.goal_id
  FROM (SELECT DISTINCT ON (tenant_id, mentee_id) tenant_id, mentee_id, goal_id
          FROM emails WHERE kind = 'proposal'
         ORDER BY tenant_id, mentee_id, ranking_version DESC, id DESC) AS newest
 WHERE newest.tenant_id = d.tenant_id AND newest.mentee_id = d.mentee_id;
ALTER TABLE mentee_digests ALTER COLUMN goal_id DROP DEFAULT,
    DROP CONSTRAINT mentee_digests_pkey,
    ADD PRIMARY KEY (tenant_id, mentee_id, goal_id);

-- At most one waiting proposal email per goal (at most one per mentee was waiting until now).
DROP INDEX emails_one_queued_per_mentee;
CREATE UNIQUE INDEX emails_one_queued_per_goal ON emails (tenant_id, mentee_id, goal_id)
    WHERE state = 'queued' AND kind = 'proposal';

-- GoalClosed: the goal's pending proposal email is withdrawn, and one that a proposal made
-- before the closing brings later is not sent. A newer GoalSet of the goal opens it again.
ALTER TABLE goal_statements ADD COLUMN closed boolean NOT NULL DEFAULT false;
