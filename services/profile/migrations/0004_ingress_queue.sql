-- Ingress commands staged per tenant (ADR 0006, "Fairness between tenants"): the consumer
-- stages each poll in one transaction and commits its offsets; a worker applies them in
-- rounds, a few per tenant at a time, and deletes each once applied or dead-lettered.
CREATE TABLE ingress_queue (
    seq               bigserial   PRIMARY KEY,
    tenant_id         text        NOT NULL,
    user_id           text        NOT NULL,
    command_id        uuid        NOT NULL UNIQUE,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    source_key        bytea,
    source_value      bytea       NOT NULL,
    source_headers    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    staged_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingress_queue_heads ON ingress_queue (tenant_id, user_id, seq);
