"""The statement that takes an erased mentor out of other mentees' emails (docs/email.md).

Every email row naming the mentor, in any state, loses them from its stored proposal and from
the original MatchProposed bytes kept for its dead letter; the mentors left are ranked again
from 1. A waiting email is recomposed from that row when it is sent, so it no longer names them;
one that named only them is withdrawn (`superseded`): an email with no mentor is never sent.
"""

from __future__ import annotations

FORGET_MENTOR = """
WITH named AS (
    SELECT id, (SELECT coalesce(jsonb_agg(jsonb_set(k.m, '{rank}', to_jsonb(k.rank))
                                          ORDER BY k.rank), '[]'::jsonb)
                  FROM (SELECT x.m, row_number() OVER (ORDER BY x.o) AS rank
                          FROM jsonb_array_elements(proposal -> 'mentors')
                               WITH ORDINALITY AS x(m, o)
                         WHERE x.m ->> 'mentor_id' <> $2) AS k) AS kept
      FROM emails
     WHERE tenant_id = $1
       AND proposal -> 'mentors' @> jsonb_build_array(jsonb_build_object('mentor_id', $2::text))
       FOR UPDATE
)
UPDATE emails e
   SET proposal = jsonb_set(e.proposal, '{mentors}', n.kept),
       source_value = convert_to(jsonb_set(convert_from(e.source_value, 'UTF8')::jsonb,
                                           '{payload,mentors}', n.kept)::text, 'UTF8'),
       state = CASE WHEN e.state = 'queued' AND n.kept = '[]'::jsonb
                    THEN 'superseded' ELSE e.state END,
       last_error = CASE WHEN e.state = 'queued' AND n.kept = '[]'::jsonb
                         THEN 'withdrawn: every mentor of the proposal was erased'
                         ELSE e.last_error END,
       updated_at = now()
  FROM named n
 WHERE e.id = n.id
"""
