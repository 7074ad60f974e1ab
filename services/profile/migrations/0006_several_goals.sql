-- Several goals per mentee (docs/adr/0012-several-goals-per-mentee.md): a goal is keyed by
-- (tenant, mentee, goal_id). The one goal each mentee had becomes their `default` goal, the one
-- the single-goal route and v1 GoalSet events mean. A closed goal keeps its row (`closed`
-- names why) so that its versions, counted per mentee, only grow.
ALTER TABLE goals ADD COLUMN goal_id text NOT NULL DEFAULT 'default';
ALTER TABLE goals ADD COLUMN closed text CHECK (closed IN ('achieved', 'abandoned', 'replaced'));
UPDATE goals SET goal = jsonb_set(goal, '{goal_id}', '"default"');
ALTER TABLE goals DROP CONSTRAINT goals_pkey;
ALTER TABLE goals ADD PRIMARY KEY (tenant_id, mentee_id, goal_id);
ALTER TABLE goals ALTER COLUMN goal_id DROP DEFAULT;

-- How many goals a mentee of the tenant may hold open; null: the service-wide default.
ALTER TABLE tenant_settings ADD COLUMN max_active_goals integer
    CHECK (max_active_goals BETWEEN 1 AND 20);
