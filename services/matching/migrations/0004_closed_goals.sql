-- GoalClosed (docs/adr/0012-several-goals-per-mentee.md): the closed goal's row keeps the
-- closing version, so that an older GoalSet read later (a replay) does not open it again.
ALTER TABLE goals ADD COLUMN closed boolean NOT NULL DEFAULT false;
