-- Fan-out events name their partition explicitly (NULL: the key decides).
ALTER TABLE outbox ADD COLUMN partition integer;
