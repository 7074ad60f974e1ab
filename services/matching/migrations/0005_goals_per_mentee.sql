-- Several goals per mentee (docs/adr/0012-several-goals-per-mentee.md): matching keeps each
-- open goal, and each goal's current proposal, under (tenant_id, mentee_id, goal_id). The one
-- goal (and proposal) a mentee had becomes the goal it holds. A goal's id is read from the
-- stored goal itself, so the two can never disagree.
ALTER TABLE goals ADD COLUMN goal_id text GENERATED ALWAYS AS (goal::jsonb ->> 'goal_id') STORED;
ALTER TABLE goals ALTER COLUMN goal_id SET NOT NULL;
ALTER TABLE goals DROP CONSTRAINT goals_pkey;
ALTER TABLE goals ADD PRIMARY KEY (tenant_id, mentee_id, goal_id);

-- ranking_version grows per (tenant, mentee, goal_id): consumers order proposals per goal.
ALTER TABLE proposals DROP CONSTRAINT proposals_pkey;
ALTER TABLE proposals ADD PRIMARY KEY (tenant_id, mentee_id, goal_id);
