-- Each tenant's staged commands in staging order: a round reads its few oldest (ADR 0006)
-- without sorting the whole queue.
CREATE INDEX ingress_queue_order ON ingress_queue (tenant_id, seq);
