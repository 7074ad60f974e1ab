"""The statements behind lifecycle emails (migration 0006)."""

SAVE_GOAL_STATEMENTS = """
INSERT INTO goal_statements AS g (tenant_id, mentee_id, goal_id, version, statement)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[])
ON CONFLICT (tenant_id, mentee_id, goal_id) DO UPDATE
   SET version = EXCLUDED.version, statement = EXCLUDED.statement, closed = false
 WHERE g.version < EXCLUDED.version
"""

# GoalClosed (migration 0008): the goal is marked closed unless a newer GoalSet opened it
# again, and then its waiting proposal email is withdrawn; other goals' emails stay.
CLOSE_GOAL = """
WITH closed AS (
    UPDATE goal_statements SET version = $4, closed = true
     WHERE tenant_id = $1 AND mentee_id = $2 AND goal_id = $3 AND version < $4
    RETURNING 1
), current AS (
    SELECT closed FROM goal_statements
     WHERE tenant_id = $1 AND mentee_id = $2 AND goal_id = $3
), withdrawn AS (
    UPDATE emails SET state = 'superseded', updated_at = now(),
           last_error = 'withdrawn: the goal was closed'
     WHERE tenant_id = $1 AND mentee_id = $2 AND goal_id = $3 AND kind = 'proposal'
       AND state = 'queued'
       AND (EXISTS (SELECT 1 FROM closed) OR coalesce((SELECT closed FROM current), true))
    RETURNING 1
)
SELECT count(*) FROM withdrawn
"""

# Row-locked, so two copies of a relationship's events in flight agree on which is newer.
ADVANCE_RELATIONSHIP = """
INSERT INTO relationship_versions AS r (tenant_id, request_id, version, started)
VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant_id, request_id) DO UPDATE
   SET version = EXCLUDED.version, started = r.started OR EXCLUDED.started
 WHERE r.version < EXCLUDED.version
RETURNING started
"""

# The reasons the mentee's proposal email gave for the mentor (from the stored proposal).
EXPLANATIONS = """
SELECT r ->> 'explanation' AS explanation
  FROM emails e,
       jsonb_array_elements(e.proposal -> 'mentors') AS m,
       jsonb_array_elements(m -> 'reasons') WITH ORDINALITY AS x(r, position)
 WHERE e.tenant_id = $1 AND e.mentee_id = $2 AND e.proposal_id = $3 AND e.kind = 'proposal'
   AND m ->> 'mentor_id' = $4
 ORDER BY e.id DESC, x.position
"""

WITHDRAW_ASKING = """
UPDATE emails SET state = 'superseded', updated_at = now(),
       last_error = 'withdrawn: the request was answered, expired or reminded meanwhile'
 WHERE tenant_id = $1 AND proposal_id = $2 AND state = 'queued'
   AND kind IN ('mentor_request', 'request_reminder')
"""

QUEUE_LIFECYCLE_EMAILS = """
WITH inserted AS (
    INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id, kind,
                        lifecycle, correlation_id, ranking_version, source_topic,
                        source_partition, source_offset, source_value, source_headers, awaited)
    SELECT n.dedupe_key, n.tenant_id, n.recipient, n.request_id, n.message_id, n.kind,
           n.lifecycle::jsonb, n.correlation_id, n.version, n.source_topic, n.source_partition,
           n.source_offset, n.source_value, n.source_headers::jsonb, true
      FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[],
                  $7::text[], $8::text[], $9::integer[], $10::text[], $11::integer[],
                  $12::bigint[], $13::bytea[], $14::text[])
           AS n(dedupe_key, tenant_id, recipient, request_id, message_id, kind, lifecycle,
                correlation_id, version, source_topic, source_partition, source_offset,
                source_value, source_headers)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM inserted
"""

# Erasure: the person's goal statements, and lifecycle emails to others that name them.
FORGET_IN_LIFECYCLE = (
    "DELETE FROM goal_statements WHERE tenant_id = $1 AND mentee_id = $2",
    "DELETE FROM emails WHERE tenant_id = $1 AND kind <> 'proposal'"
    " AND lifecycle ->> 'other_id' = $2",
)
