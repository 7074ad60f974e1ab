"""Claims of due emails and their leases: what a claim takes, and how only its holder writes
the outcome."""

# One statement claims due emails and reads what sending them needs: the contact and the
# mentee's recent sends (all in the snapshot the claim took), so a send makes no read of its own.
# The rate limit and the ranking order concern proposals only: a lifecycle email (migration 0006)
# answers something the recipient did or was asked, and goes when it is due.
# Emails a mentee is waiting for go first (migration 0004), then by due time. A proposal email
# names the goal it answers: the statement of its goal id, when a GoalSet brought one. Ranking
# versions grow per goal (ADR 0012): an email is outdated by a newer one of its own goal only,
# and a proposal email of a goal closed since is not sent. The rate limit counts every proposal
# email of the mentee, whatever its goal: it protects one inbox.
CLAIM_DUE = """
WITH claimed AS (
    UPDATE emails SET state = 'sending', attempts = attempts + 1, updated_at = now(),
           lease_until = now() + make_interval(secs => $2)
     WHERE id IN (SELECT id FROM emails WHERE next_attempt_at <= now() AND
                  (state = 'queued' OR (state = 'sending' AND lease_until < now()))
                  ORDER BY awaited DESC, next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING id, tenant_id, mentee_id, goal_id, message_id, proposal, attempts, created_at,
              correlation_id, next_attempt_at, awaited, ranking_version, kind, lifecycle
)
SELECT e.*, c.user_id, c.email, c.display_name, c.email_opt_in, c.timezone,
       c.quiet_hours_start, c.quiet_hours_end, g.statement AS goal_statement,
       ARRAY(SELECT s.sent_at FROM emails s WHERE s.tenant_id = e.tenant_id
              AND s.mentee_id = e.mentee_id AND s.state IN ('released', 'sent')
              AND s.kind = 'proposal'
              AND s.sent_at > now() - make_interval(secs => $3)) AS recent_sends,
       e.kind = 'proposal' AND EXISTS (
               SELECT 1 FROM emails n WHERE n.tenant_id = e.tenant_id
               AND n.mentee_id = e.mentee_id AND n.goal_id = e.goal_id
               AND n.state IN ('released', 'sent')
               AND n.kind = 'proposal' AND n.ranking_version > e.ranking_version) AS outdated,
       coalesce(g.closed, false) AS goal_closed
  FROM claimed e LEFT JOIN contacts c ON c.tenant_id = e.tenant_id AND c.user_id = e.mentee_id
  LEFT JOIN goal_statements g ON e.kind = 'proposal' AND g.tenant_id = e.tenant_id
       AND g.mentee_id = e.mentee_id AND g.goal_id = e.goal_id
 ORDER BY e.awaited DESC, e.next_attempt_at, e.id
"""


# Refreshes wait behind awaited emails for at most the hold: then they join them, in due order
# (an index range scan over the held refreshes; it usually finds none).
PROMOTE_HELD_REFRESHES = """
UPDATE emails SET awaited = true
 WHERE id IN (SELECT id FROM emails WHERE NOT awaited AND state IN ('queued', 'sending')
                 AND next_attempt_at <= now() - make_interval(secs => $1)
                 FOR UPDATE SKIP LOCKED)
"""


# Only the claim that holds the lease releases: the row is still `sending`, with this claim's
# attempt number (each claim adds one) and a lease that has not run out (a claim takes only
# rows whose lease has). The transaction keeps the row locked until its COMMIT, which goes out
# with the end of the message; simple-query form (two integers inlined), so BEGIN and the
# UPDATE cost one round trip.
MARK_RELEASED = (
    "BEGIN; UPDATE emails SET state = 'released', sent_at = now(), updated_at = now(),"
    " lease_until = NULL, last_error = NULL"
    " WHERE id = {id:d} AND state = 'sending' AND attempts = {attempt:d} AND lease_until > now()"
)
# An outcome ($1 the email, $2 the claim's attempt number) is written only by the claim that
# took the email: still its attempt, and not given up, queued again or sent meanwhile.
HELD_BY = "id = $1 AND attempts = $2 AND state IN ('sending', 'released')"
MARK_SENT = (
    "UPDATE emails SET state = 'sent', sent_at = coalesce(sent_at, now()), updated_at = now(),"
    " lease_until = NULL, last_error = NULL"
    " FROM unnest($1::bigint[], $2::int[]) AS held(id, attempt)"
    " WHERE emails.id = held.id AND emails.attempts = held.attempt"
    " AND emails.state IN ('sending', 'released')"
    # the ids as an index condition too: the join alone may keep a sequential scan of emails
    " AND emails.id = ANY($1::bigint[])"
)


# A newer proposal queued while this email was being sent did not replace it (only waiting
# emails are replaced); if this one now gives way to it, the mentee still waits for the newer.
# Another email of the same goal, waiting, whose ranking is newer than e's: the one that e,
# going back to wait, gives way to. An older one waiting gives way to e instead.
NEWER_WAITING = (
    "w.state = 'queued' AND w.kind = 'proposal' AND e.kind = 'proposal'"
    " AND w.tenant_id = e.tenant_id AND w.mentee_id = e.mentee_id AND w.goal_id = e.goal_id"
    " AND w.ranking_version > e.ranking_version"
)
OLDER_WAITING = (
    "w.state = 'queued' AND w.kind = 'proposal' AND e.kind = 'proposal'"
    " AND w.tenant_id = e.tenant_id AND w.mentee_id = e.mentee_id AND w.goal_id = e.goal_id"
    " AND w.ranking_version < e.ranking_version"
)

INHERIT_AWAITED = f"""
UPDATE emails w SET awaited = true
  FROM emails e
 WHERE e.id = $1 AND e.awaited AND NOT w.awaited AND {NEWER_WAITING}
"""  # noqa: S608 - constants

# e is about to wait again: an older email of the goal still waiting (at most one waits,
# emails_one_queued_per_goal) is replaced by it first, and e takes over its priority, so the
# mentee never gets an older ranking after, or instead of, a newer one.
REPLACE_OLDER_WAITING = f"""
WITH older AS (
    UPDATE emails w SET state = 'superseded', superseded_by = e.proposal_id, updated_at = now(),
           last_error = 'replaced by a newer proposal within the digest window'
      FROM emails e
     WHERE e.id = $1 AND {OLDER_WAITING}
    RETURNING w.awaited
)
UPDATE emails SET awaited = true
 WHERE id = $1 AND NOT awaited AND EXISTS (SELECT 1 FROM older WHERE older.awaited)
"""  # noqa: S608 - constants
