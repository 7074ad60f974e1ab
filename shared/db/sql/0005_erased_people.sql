-- Erased people as keyed hashes (shared/erasure.py): never the ids, only HMAC-SHA256 of
-- (tenant, user id) under ERASURE_HASH_KEYS, with when they were erased and, if a profile was
-- created again after that, when.
CREATE TABLE erased_people (
    person_hash bytea       PRIMARY KEY,
    erased_at   timestamptz NOT NULL,
    restored_at timestamptz
);
