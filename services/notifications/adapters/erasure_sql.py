"""The statements that take an erased mentor out of other mentees' emails (docs/email.md).

Every email row naming the mentor, in any state, loses them from its stored proposal and from
the original MatchProposed bytes kept for its dead letter; the mentors left are ranked again
from 1. A waiting email is recomposed from that row when it is sent, so it no longer names them;
one that named only them is withdrawn (`superseded`): an email with no mentor is never sent.
The dead letters of undeliverable emails still in the outbox lose them the same way. A
proposal's cause (what changed, MatchProposed v2) loses the mentor's id and name wherever it
names them, so the email says "a mentor" instead; and the alternatives named for an unmet must
(MatchProposed v3) lose them.

An erasure holds the tenant's erasure lock (exclusive); a poll of proposals, and every other
transaction that reads who was erased (a goal statement, a relationship email), holds it
shared from before that read: one that read "not erased" commits before the erasure deletes
and rewrites rows, and one that starts during the erasure reads it.
"""

from __future__ import annotations

from collections.abc import Callable

ERASURE_LOCK = 7_402  # advisory lock class: (ERASURE_LOCK, hashtext(tenant_id))
LOCK_FOR_ERASURE = "SELECT pg_advisory_xact_lock($1, hashtext($2))"
LOCK_AGAINST_ERASURE = (
    "SELECT pg_advisory_xact_lock_shared($1, h)"
    " FROM (SELECT DISTINCT hashtext(t) AS h FROM unnest($2::text[]) AS t ORDER BY 1) AS tenants"
)


def _without_mentor(mentors: str) -> str:
    """SQL: the jsonb array `mentors` without mentor $2, ranked again from 1."""
    return f"""(SELECT coalesce(jsonb_agg(jsonb_set(k.m, '{{rank}}', to_jsonb(k.rank))
                                 ORDER BY k.rank), '[]'::jsonb)
         FROM (SELECT x.m, row_number() OVER (ORDER BY x.o) AS rank
                 FROM jsonb_array_elements({mentors}) WITH ORDINALITY AS x(m, o)
                WHERE x.m ->> 'mentor_id' <> $2) AS k)"""  # noqa: S608 - constants only


def _names_mentor(mentors: str) -> str:
    return f"{mentors} @> jsonb_build_array(jsonb_build_object('mentor_id', $2::text))"


_LETTER_MENTORS = "(convert_from(value, 'UTF8')::jsonb -> 'payload' -> 'mentors')"

FORGET_MENTOR_IN_DEAD_LETTERS = f"""
WITH named AS (
    SELECT id, {_without_mentor(_LETTER_MENTORS)} AS kept
      FROM outbox
     WHERE headers ->> 'tenant_id' = $1 AND headers ->> 'x-dlq-reason' = $3
       AND {_names_mentor(_LETTER_MENTORS)}
       FOR UPDATE
)
UPDATE outbox o
   SET value = convert_to(jsonb_set(convert_from(o.value, 'UTF8')::jsonb,
                                    '{{payload,mentors}}', n.kept)::text, 'UTF8')
  FROM named n
 WHERE o.id = n.id
"""  # noqa: S608 - built from the constants above only

# After that, a dead letter of an undeliverable email that still names the person is one of
# the relationship emails (its event names the mentee and the mentor): it goes, as the email
# rows naming them do; a replay of it would be dropped as about an erased person anyway.
FORGET_IN_OTHER_DEAD_LETTERS = """
DELETE FROM outbox
 WHERE headers ->> 'tenant_id' = $1 AND headers ->> 'x-dlq-reason' = $3
   AND $2 IN (convert_from(value, 'UTF8')::jsonb -> 'payload' ->> 'mentee_id',
              convert_from(value, 'UTF8')::jsonb -> 'payload' ->> 'mentor_id')
"""

FORGET_MENTOR = f"""
WITH named AS (
    SELECT id, {_without_mentor("proposal -> 'mentors'")} AS kept
      FROM emails
     WHERE tenant_id = $1
       AND {_names_mentor("proposal -> 'mentors'")}
       FOR UPDATE
)
UPDATE emails e
   SET proposal = jsonb_set(e.proposal, '{{mentors}}', n.kept),
       source_value = convert_to(jsonb_set(convert_from(e.source_value, 'UTF8')::jsonb,
                                           '{{payload,mentors}}', n.kept)::text, 'UTF8'),
       state = CASE WHEN e.state = 'queued' AND n.kept = '[]'::jsonb
                    THEN 'superseded' ELSE e.state END,
       last_error = CASE WHEN e.state = 'queued' AND n.kept = '[]'::jsonb
                         THEN 'withdrawn: every mentor of the proposal was erased'
                         ELSE e.last_error END,
       updated_at = now()
  FROM named n
 WHERE e.id = n.id
"""  # noqa: S608 - built from the constants above only


def _cause_without_mentor(cause: str) -> str:
    """SQL: the jsonb cause `cause` without mentor $2 (its id and name, and the adjustment's
    mentor id); a cause that does not name them is returned as it is."""
    named = f"(CASE WHEN {cause} ->> 'mentor_id' = $2 THEN {cause} - 'mentor_id' - 'mentor_name'"
    named += f" ELSE {cause} END)"
    return (
        f"(CASE WHEN {named} -> 'adjustment' ->> 'mentor_id' = $2"
        f" THEN {named} #- '{{adjustment,mentor_id}}' ELSE {named} END)"
    )


def _cause_names_mentor(cause: str) -> str:
    return f"({cause} ->> 'mentor_id' = $2 OR {cause} -> 'adjustment' ->> 'mentor_id' = $2)"


_SOURCE = "convert_from(source_value, 'UTF8')::jsonb"
_LETTER = "convert_from(value, 'UTF8')::jsonb"
SqlOf = Callable[[str], str]


def _forget_in_emails(field: str, without: SqlOf, names: SqlOf) -> str:
    """SQL: the emails whose proposal's `field` names mentor $2, without them."""
    stored = f"(proposal -> '{field}')"
    return f"""
UPDATE emails
   SET proposal = jsonb_set(proposal, '{{{field}}}', {without(stored)}),
       source_value = convert_to(jsonb_set({_SOURCE}, '{{payload,{field}}}',
           {without(f"({_SOURCE} -> 'payload' -> '{field}')")})::text, 'UTF8'),
       updated_at = now()
 WHERE tenant_id = $1 AND {names(stored)}
"""  # noqa: S608 - built from the constants above only


def _forget_in_dead_letters(field: str, without: SqlOf, names: SqlOf) -> str:
    """SQL: the dead letters (reason $3) whose proposal's `field` names mentor $2, without them."""
    letter = f"({_LETTER} -> 'payload' -> '{field}')"
    return f"""
UPDATE outbox
   SET value = convert_to(jsonb_set({_LETTER}, '{{payload,{field}}}',
           {without(letter)})::text, 'UTF8')
 WHERE headers ->> 'tenant_id' = $1 AND headers ->> 'x-dlq-reason' = $3
   AND {names(letter)}
"""  # noqa: S608 - built from the constants above only


FORGET_MENTOR_IN_CAUSES = _forget_in_emails("cause", _cause_without_mentor, _cause_names_mentor)
FORGET_MENTOR_IN_DEAD_LETTER_CAUSES = _forget_in_dead_letters(
    "cause", _cause_without_mentor, _cause_names_mentor
)


def _musts_without_mentor(unmet: str) -> str:
    """SQL: the jsonb array of unmet musts `unmet`, each without mentor $2 in its alternatives."""
    return f"""(SELECT coalesce(jsonb_agg(jsonb_set(u.m, '{{alternatives}}',
            (SELECT coalesce(jsonb_agg(a.x ORDER BY a.o), '[]'::jsonb)
               FROM jsonb_array_elements(u.m -> 'alternatives') WITH ORDINALITY AS a(x, o)
              WHERE a.x ->> 'mentor_id' <> $2)) ORDER BY u.o), '[]'::jsonb)
         FROM jsonb_array_elements({unmet}) WITH ORDINALITY AS u(m, o))"""  # noqa: S608


def _musts_name_mentor(unmet: str) -> str:
    alternative = "jsonb_build_array(jsonb_build_object('mentor_id', $2::text))"
    return f"{unmet} @> jsonb_build_array(jsonb_build_object('alternatives', {alternative}))"


FORGET_MENTOR_IN_MUSTS = _forget_in_emails("unmet_musts", _musts_without_mentor, _musts_name_mentor)
FORGET_MENTOR_IN_DEAD_LETTER_MUSTS = _forget_in_dead_letters(
    "unmet_musts", _musts_without_mentor, _musts_name_mentor
)
