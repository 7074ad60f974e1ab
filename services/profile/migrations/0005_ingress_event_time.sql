-- The Kafka record's timestamp of a staged ingress command: its event time, so that a command
-- made before its person's erasure is not applied after it (shared/erasure.py).
ALTER TABLE ingress_queue ADD COLUMN produced_at timestamptz;
