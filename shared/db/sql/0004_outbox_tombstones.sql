-- A tombstone (a null value under a person's key on a compacted topic) leaves through the
-- outbox like any event, in order after the ProfileDeleted before it.
ALTER TABLE outbox ALTER COLUMN value DROP NOT NULL;
