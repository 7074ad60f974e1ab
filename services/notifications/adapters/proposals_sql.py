"""The three statements of a poll of proposals (ADR 0009), whatever the poll's size, after
the tenant's erasure lock (adapters/erasure_sql.py)."""

# A poll of proposals costs three statements, whatever its size (ADR 0009), after it took the
# tenant's erasure lock (shared, so that no erasure commits between its read of who was
# erased and its commit). The first records
# the event ids (idempotency), locks the goals' digests in a fixed order (as a requeue does,
# so the two never leave two waiting emails) and reads their versions, the dedupe keys that
# exist and which of the poll's people were erased (shared/erasure.py); the handler applies
# the digest rule to the poll in memory.
BEGIN_PROPOSALS = """
WITH first_seen AS (
    INSERT INTO processed_events (consumer, event_id)
    SELECT $1, id FROM unnest($2::uuid[]) AS id
    ON CONFLICT DO NOTHING RETURNING event_id
), digests AS (
    SELECT d.tenant_id, d.mentee_id, d.goal_id, d.ranking_version
      FROM mentee_digests d
      JOIN unnest($3::text[], $4::text[], $7::text[]) AS m(tenant_id, mentee_id, goal_id)
        ON d.tenant_id = m.tenant_id AND d.mentee_id = m.mentee_id AND d.goal_id = m.goal_id
     ORDER BY d.tenant_id, d.mentee_id, d.goal_id
       FOR UPDATE OF d
)
SELECT 'event' AS kind, event_id::text AS a, NULL AS b, NULL AS c, NULL::integer AS version,
       NULL::timestamptz AS at, NULL::timestamptz AS restored
  FROM first_seen
UNION ALL
SELECT 'digest', tenant_id, mentee_id, goal_id, ranking_version, NULL, NULL FROM digests
UNION ALL
SELECT 'taken', dedupe_key, NULL, NULL, NULL, NULL, NULL
  FROM emails WHERE dedupe_key = ANY($5::text[])
UNION ALL
SELECT 'erased', encode(person_hash, 'hex'), NULL, NULL, NULL, erased_at, restored_at
  FROM erased_people WHERE person_hash = ANY($6::bytea[])
"""
# The second records each advanced goal's newest version (only ever upwards) and supersedes
# the waiting emails of the goals the poll replaces (another goal's waiting email stays),
# returning when they were due and what they said changed (the new rows keep the due time, and
# a refresh keeps the cause). Its first row counts the digests that advanced.
SETTLE_DIGESTS = """
WITH advanced AS (
    INSERT INTO mentee_digests AS d (tenant_id, mentee_id, goal_id, ranking_version)
    SELECT * FROM unnest($1::text[], $2::text[], $7::text[], $3::integer[])
    ON CONFLICT (tenant_id, mentee_id, goal_id) DO UPDATE
       SET ranking_version = EXCLUDED.ranking_version, updated_at = now()
     WHERE d.ranking_version < EXCLUDED.ranking_version
    RETURNING 1
), replaced AS (
    UPDATE emails e SET state = 'superseded', superseded_by = s.by, updated_at = now(),
           last_error = 'replaced by a newer proposal within the digest window'
      FROM unnest($4::text[], $5::text[], $8::text[], $6::uuid[])
           AS s(tenant_id, mentee_id, goal_id, by)
     WHERE e.tenant_id = s.tenant_id AND e.mentee_id = s.mentee_id AND e.goal_id = s.goal_id
       AND e.state = 'queued' AND e.kind = 'proposal'
       -- the poll's mentees as an index condition: the join alone lets a plan made while
       -- emails was near empty hash every queued email, each poll
       AND e.tenant_id = ANY($4::text[]) AND e.mentee_id = ANY($5::text[])
    RETURNING e.tenant_id, e.mentee_id, e.goal_id, e.next_attempt_at, e.awaited,
              nullif(e.proposal -> 'cause', 'null'::jsonb)::text AS cause
)
SELECT (SELECT count(*) FROM advanced) AS advanced, NULL AS tenant_id, NULL AS mentee_id,
       NULL AS goal_id, NULL::timestamptz AS next_attempt_at, NULL::boolean AS awaited,
       NULL::text AS cause
UNION ALL
SELECT NULL, tenant_id, mentee_id, goal_id, next_attempt_at, awaited, cause FROM replaced
"""
# The third inserts the new rows in poll order: the last of each goal's is the waiting email,
# the earlier ones are stored as superseded by the next, as if each had been replaced in turn.
QUEUE_EMAILS = """
WITH inserted AS (
    INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id, proposal,
                        correlation_id, ranking_version, next_attempt_at, source_topic,
                        source_partition, source_offset, source_value, source_headers, state,
                        superseded_by, last_error, awaited)
    SELECT n.dedupe_key, n.tenant_id, n.mentee_id, n.proposal_id, n.message_id,
           n.proposal::jsonb, n.correlation_id, n.ranking_version, n.next_attempt_at,
           n.source_topic, n.source_partition, n.source_offset, n.source_value,
           n.source_headers::jsonb,
           CASE WHEN n.superseded_by IS NULL THEN 'queued' ELSE 'superseded' END,
           n.superseded_by,
           CASE WHEN n.superseded_by IS NOT NULL
                THEN 'replaced by a newer proposal within the digest window' END,
           n.awaited
      FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[],
                  $7::text[], $8::integer[], $9::timestamptz[], $10::text[], $11::integer[],
                  $12::bigint[], $13::bytea[], $14::text[], $15::uuid[], $16::boolean[])
           WITH ORDINALITY AS n(dedupe_key, tenant_id, mentee_id, proposal_id, message_id,
                                proposal, correlation_id, ranking_version, next_attempt_at,
                                source_topic, source_partition, source_offset, source_value,
                                source_headers, superseded_by, awaited, position)
     ORDER BY n.position
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM inserted
"""
