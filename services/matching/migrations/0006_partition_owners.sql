-- Issue 29: who took each partition last. An instance that gets back a partition it held keeps
-- its engines' state of it only if nobody took the partition in between
-- (docs/adr/0014-sticky-partitions-and-kept-state.md).
CREATE TABLE partition_owners (
    partition integer PRIMARY KEY,
    owner text NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now()
);
