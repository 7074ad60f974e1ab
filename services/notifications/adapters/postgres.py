"""asyncpg implementation of the notifications store (schema `notifications`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from services.notifications.adapters.erasure_sql import FORGET_MENTOR
from services.notifications.domain.digest import Mentee, Waiting
from services.notifications.domain.email import Contact
from services.notifications.service_layer.ports import (
    ClaimedEmail,
    LeaseLost,
    NewEmail,
    PollState,
)
from shared.contracts.matches import MatchProposedPayload
from shared.db.idempotency import first_delivery
from shared.db.types import DbConnection
from shared.erasure import Erasure, ErasureKeys, Person, PostgresErasureLog
from shared.errors import TransientError
from shared.kafka.dead_letter import DeadLetter
from shared.outbox import add_dead_letter
from shared.settings import ErasureSettings

CONSUMER = "notifications"
GAVE_UP = "email_undeliverable"  # x-dlq-reason of an email that failed max_attempts times
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
    " lease_until = NULL, last_error = NULL WHERE id = ANY($1::bigint[]) AND state = 'released'"
)


def _contact(row: asyncpg.Record) -> Contact:
    return Contact(
        tenant_id=row["tenant_id"],
        user_id=row["user_id"],
        email=row["email"],
        display_name=row["display_name"],
        email_opt_in=row["email_opt_in"],
        timezone=row["timezone"],
        quiet_hours_start=row["quiet_hours_start"],
        quiet_hours_end=row["quiet_hours_end"],
    )


def _claimed(row: asyncpg.Record) -> ClaimedEmail:
    """A row of CLAIM_DUE: the email, its contact's columns (null without one), recent sends."""
    return ClaimedEmail(
        id=row["id"],
        tenant_id=row["tenant_id"],
        mentee_id=row["mentee_id"],
        message_id=row["message_id"],
        proposal=MatchProposedPayload.model_validate_json(row["proposal"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        correlation_id=row["correlation_id"],
        contact=_contact(row) if row["user_id"] is not None else None,
        recent_sends=tuple(row["recent_sends"]),
        outdated=row["outdated"],
    )


class PostgresNotificationsTransaction:
    def __init__(self, conn: DbConnection, keys: ErasureKeys) -> None:
        self._conn = conn
        self._keys = keys
        self.erasures = PostgresErasureLog(conn, keys)

    async def first_delivery(self, event_id: UUID) -> bool:
        return await first_delivery(self._conn, CONSUMER, event_id)

    async def contact_version(self, tenant_id: str, user_id: str) -> int | None:
        version: int | None = await self._conn.fetchval(
            "SELECT version FROM contacts WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE",
            tenant_id,
            user_id,
        )
        return version

    async def save_contact(self, contact: Contact, version: int) -> None:
        await self._conn.execute(
            "INSERT INTO contacts AS c (tenant_id, user_id, version, email, display_name,"
            " email_opt_in, timezone, quiet_hours_start, quiet_hours_end, opted_out_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $6 THEN NULL ELSE now() END)"
            " ON CONFLICT (tenant_id, user_id) DO UPDATE SET version = EXCLUDED.version,"
            " email = EXCLUDED.email, display_name = EXCLUDED.display_name,"
            " email_opt_in = EXCLUDED.email_opt_in, timezone = EXCLUDED.timezone,"
            " quiet_hours_start = EXCLUDED.quiet_hours_start,"
            " quiet_hours_end = EXCLUDED.quiet_hours_end,"
            " opted_out_at = CASE WHEN EXCLUDED.email_opt_in THEN NULL"
            "   ELSE coalesce(c.opted_out_at, now()) END",
            contact.tenant_id,
            contact.user_id,
            version,
            contact.email,
            contact.display_name,
            contact.email_opt_in,
            contact.timezone,
            contact.quiet_hours_start,
            contact.quiet_hours_end,
        )

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        for sql in (
            "DELETE FROM contacts WHERE tenant_id = $1 AND user_id = $2",
            "DELETE FROM emails WHERE tenant_id = $1 AND mentee_id = $2",
            "DELETE FROM mentee_digests WHERE tenant_id = $1 AND mentee_id = $2",
            # dead letters not yet relayed carry the person's proposal
            "DELETE FROM outbox WHERE headers ->> 'tenant_id' = $1"
            " AND key = convert_to($2, 'UTF8')",
        ):
            await self._conn.execute(sql, tenant_id, user_id)
        await self._conn.execute(FORGET_MENTOR, tenant_id, user_id)  # in other mentees' emails

    async def begin_proposals(
        self,
        event_ids: Sequence[UUID],
        mentees: Sequence[Mentee],
        dedupe_keys: Sequence[str],
        people: Sequence[Person] = (),
    ) -> PollState:
        by_hash = self._keys.lookup(people)
        rows = await self._conn.fetch(
            BEGIN_PROPOSALS,
            CONSUMER,
            list(event_ids),
            [tenant for tenant, _ in mentees],
            [mentee for _, mentee in mentees],
            list(dedupe_keys),
            list(by_hash),
        )
        first_seen: set[UUID] = set()
        versions: dict[Mentee, int] = {}
        taken: set[str] = set()
        erased: dict[Person, Erasure] = {}
        for row in rows:
            if row["kind"] == "event":
                first_seen.add(UUID(row["a"]))
            elif row["kind"] == "digest":
                versions[row["a"], row["b"]] = row["version"]
            elif row["kind"] == "erased":
                erased[by_hash[bytes.fromhex(row["a"])]] = Erasure(row["at"], row["restored"])
            else:
                taken.add(row["a"])
        return PollState(frozenset(first_seen), versions, frozenset(taken), erased)

    async def settle_digests(
        self, versions: Mapping[Mentee, int], supersede: Mapping[Mentee, UUID]
    ) -> dict[Mentee, Waiting]:
        rows = await self._conn.fetch(
            SETTLE_DIGESTS,
            [tenant for tenant, _ in versions],
            [mentee for _, mentee in versions],
            list(versions.values()),
            [tenant for tenant, _ in supersede],
            [mentee for _, mentee in supersede],
            list(supersede.values()),
        )
        advanced = next(r["advanced"] for r in rows if r["advanced"] is not None)
        if advanced != len(versions):
            # Only a concurrent writer of a digest that did not exist when the poll began can
            # get here (the others are locked): redo the poll from a fresh read.
            raise TransientError("a mentee's ranking version changed under the poll")
        return {
            (r["tenant_id"], r["mentee_id"]): Waiting(r["next_attempt_at"], r["awaited"])
            for r in rows
            if r["advanced"] is None
        }

    async def queue_emails(self, emails: Sequence[NewEmail]) -> int:
        inserted: int = await self._conn.fetchval(
            QUEUE_EMAILS,
            [e.dedupe_key for e in emails],
            [e.tenant_id for e in emails],
            [e.proposal.mentee_id for e in emails],
            [e.proposal.proposal_id for e in emails],
            [e.message_id for e in emails],
            # without `awaited`: its column holds it, and an older version can read the row
            [e.proposal.model_dump_json(exclude={"awaited"}) for e in emails],
            [e.correlation_id for e in emails],
            [e.proposal.ranking_version for e in emails],
            [e.due_at for e in emails],
            [e.origin.topic for e in emails],
            [e.origin.partition for e in emails],
            [e.origin.offset for e in emails],
            [e.origin.value for e in emails],
            [json.dumps(e.origin.headers) for e in emails],
            [e.superseded_by for e in emails],
            [e.awaited for e in emails],
        )
        return inserted


# A poll of proposals costs three statements, whatever its size (ADR 0009). The first records
# the event ids (idempotency), locks the mentees' digests in a fixed order (as a requeue does,
# so the two never leave two waiting emails) and reads their versions, the dedupe keys that
# exist and which of the poll's people were erased (shared/erasure.py); the handler applies
# the digest rule to the poll in memory.
BEGIN_PROPOSALS = """
WITH first_seen AS (
    INSERT INTO processed_events (consumer, event_id)
    SELECT $1, id FROM unnest($2::uuid[]) AS id
    ON CONFLICT DO NOTHING RETURNING event_id
), digests AS (
    SELECT d.tenant_id, d.mentee_id, d.ranking_version
      FROM mentee_digests d
      JOIN unnest($3::text[], $4::text[]) AS m(tenant_id, mentee_id)
        ON d.tenant_id = m.tenant_id AND d.mentee_id = m.mentee_id
     ORDER BY d.tenant_id, d.mentee_id
       FOR UPDATE OF d
)
SELECT 'event' AS kind, event_id::text AS a, NULL AS b, NULL::integer AS version,
       NULL::timestamptz AS at, NULL::timestamptz AS restored
  FROM first_seen
UNION ALL
SELECT 'digest', tenant_id, mentee_id, ranking_version, NULL, NULL FROM digests
UNION ALL
SELECT 'taken', dedupe_key, NULL, NULL, NULL, NULL FROM emails WHERE dedupe_key = ANY($5::text[])
UNION ALL
SELECT 'erased', encode(person_hash, 'hex'), NULL, NULL, erased_at, restored_at
  FROM erased_people WHERE person_hash = ANY($6::bytea[])
"""
# The second records each advanced mentee's newest version (only ever upwards) and supersedes
# the waiting emails the poll replaces, returning when they were due (the new rows keep it).
# Its first row counts the digests that advanced.
SETTLE_DIGESTS = """
WITH advanced AS (
    INSERT INTO mentee_digests AS d (tenant_id, mentee_id, ranking_version)
    SELECT * FROM unnest($1::text[], $2::text[], $3::integer[])
    ON CONFLICT (tenant_id, mentee_id) DO UPDATE
       SET ranking_version = EXCLUDED.ranking_version, updated_at = now()
     WHERE d.ranking_version < EXCLUDED.ranking_version
    RETURNING 1
), replaced AS (
    UPDATE emails e SET state = 'superseded', superseded_by = s.by, updated_at = now(),
           last_error = 'replaced by a newer proposal within the digest window'
      FROM unnest($4::text[], $5::text[], $6::uuid[]) AS s(tenant_id, mentee_id, by)
     WHERE e.tenant_id = s.tenant_id AND e.mentee_id = s.mentee_id AND e.state = 'queued'
    RETURNING e.tenant_id, e.mentee_id, e.next_attempt_at, e.awaited
)
SELECT (SELECT count(*) FROM advanced) AS advanced, NULL AS tenant_id, NULL AS mentee_id,
       NULL::timestamptz AS next_attempt_at, NULL::boolean AS awaited
UNION ALL
SELECT NULL, tenant_id, mentee_id, next_attempt_at, awaited FROM replaced
"""
# The third inserts the new rows in poll order: the last of each mentee's is the waiting email,
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


# One statement claims due emails and reads what sending them needs: the contact and the
# mentee's recent sends (all in the snapshot the claim took), so a send makes no read of its own.
# Emails a mentee is waiting for go first (migration 0004), then by due time.
CLAIM_DUE = """
WITH claimed AS (
    UPDATE emails SET state = 'sending', attempts = attempts + 1, updated_at = now(),
           lease_until = now() + make_interval(secs => $2)
     WHERE id IN (SELECT id FROM emails WHERE next_attempt_at <= now() AND
                  (state = 'queued' OR (state = 'sending' AND lease_until < now()))
                  ORDER BY awaited DESC, next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING id, tenant_id, mentee_id, message_id, proposal, attempts, created_at,
              correlation_id, next_attempt_at, awaited, ranking_version
)
SELECT e.*, c.user_id, c.email, c.display_name, c.email_opt_in, c.timezone,
       c.quiet_hours_start, c.quiet_hours_end,
       ARRAY(SELECT s.sent_at FROM emails s WHERE s.tenant_id = e.tenant_id
              AND s.mentee_id = e.mentee_id AND s.state IN ('released', 'sent')
              AND s.sent_at > now() - make_interval(secs => $3)) AS recent_sends,
       EXISTS (SELECT 1 FROM emails n WHERE n.tenant_id = e.tenant_id
               AND n.mentee_id = e.mentee_id AND n.state IN ('released', 'sent')
               AND n.ranking_version > e.ranking_version) AS outdated
  FROM claimed e LEFT JOIN contacts c ON c.tenant_id = e.tenant_id AND c.user_id = e.mentee_id
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


class PostgresNotificationsStore:
    def __init__(
        self,
        pool: asyncpg.Pool,
        service: str = CONSUMER,
        slot_pool: asyncpg.Pool | None = None,
        erasure_keys: ErasureKeys | None = None,
    ) -> None:
        self._pool = pool
        self._keys = erasure_keys or ErasureKeys(ErasureSettings().keys())
        self._service = service
        self._slot_pool = slot_pool or pool  # the send slots' connections, one held per slot
        self._promoted_at = -math.inf  # monotonic time of the last PROMOTE_HELD_REFRESHES

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresNotificationsTransaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PostgresNotificationsTransaction(conn, self._keys)

    async def claim_due(
        self, limit: int, lease_s: float, sends_within_s: float, refresh_hold_s: float
    ) -> list[ClaimedEmail]:
        await self._promote_held_refreshes(refresh_hold_s)
        rows = await self._pool.fetch(CLAIM_DUE, limit, lease_s, sends_within_s)
        return [_claimed(r) for r in rows]

    async def _promote_held_refreshes(self, hold_s: float) -> None:
        """At most every tenth of the hold: a claim comes every few emails under load, and a
        hold kept to within a tenth is as good as exact."""
        now = time.monotonic()
        if now - self._promoted_at >= hold_s / 10:
            self._promoted_at = now
            await self._pool.execute(PROMOTE_HELD_REFRESHES, hold_s)

    @asynccontextmanager
    async def send_records(self) -> AsyncIterator[PostgresSendRecords]:
        records = PostgresSendRecords(self._slot_pool, self._service)
        try:
            yield records
        finally:
            await records.close()


class PostgresSendRecords:
    """One send slot's records, over a connection it keeps (acquired on first use, replaced
    when it breaks), so a send costs no pool round trips."""

    def __init__(self, pool: asyncpg.Pool, service: str) -> None:
        self._pool = pool
        self._service = service
        self._conn: PoolConnectionProxy[asyncpg.Record] | None = None
        self._releasing: asyncio.Future[object] | None = None

    async def _connection(self) -> PoolConnectionProxy[asyncpg.Record]:
        if self._releasing is not None:  # one statement at a time, in the order written
            await asyncio.wait([self._releasing])
            self._releasing = None
        if self._conn is not None and not _usable(self._conn):
            await self._give_back()
        if self._conn is None:
            self._conn = await self._pool.acquire()
        return self._conn

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[PoolConnectionProxy[asyncpg.Record]]:
        """The slot's connection for one statement. A connection the server ended under a
        statement can be left mid-protocol (asyncpg raises InternalClientError): it is dropped
        and the failure reported as transient, so the next statement reconnects."""
        conn = await self._connection()
        try:
            yield conn
        except asyncpg.InternalClientError as exc:
            self._conn = None
            conn.terminate()
            await self._pool.release(conn)
            raise TransientError("database connection lost under a statement") from exc

    async def _give_back(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._pool.release(conn)

    async def close(self) -> None:
        if self._releasing is not None:  # never cut off an UPDATE that is on its way
            await asyncio.wait([self._releasing])
        await self._give_back()

    async def recent_sends(self, tenant_id: str, mentee_id: str, since: datetime) -> list[datetime]:
        async with self._session() as conn:
            rows = await conn.fetch(
                "SELECT sent_at FROM emails WHERE tenant_id = $1 AND mentee_id = $2"
                " AND state IN ('released', 'sent') AND sent_at > $3",
                tenant_id,
                mentee_id,
                since,
            )
        return [r["sent_at"] for r in rows]

    async def mark_sent(self, email_ids: Sequence[int]) -> None:
        async with self._session() as conn:
            await conn.execute(MARK_SENT, email_ids)

    async def begin_mark_released(self, email_id: int, attempt: int) -> Awaitable[None]:
        async with self._session() as conn:
            try:
                status = await conn.execute(MARK_RELEASED.format(id=email_id, attempt=attempt))
            except BaseException:
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
                raise
            if status != "UPDATE 1":
                await conn.execute("ROLLBACK")
                raise LeaseLost(f"email {email_id}: claim {attempt} no longer holds it")
        # The task's first step writes the COMMIT before it awaits the reply. It runs in the
        # next turn of the event loop, ahead of anything the caller schedules from here on.
        running: asyncio.Future[object] = asyncio.ensure_future(conn.execute("COMMIT"))
        self._releasing = running
        return asyncio.ensure_future(_shielded(running))

    async def mark_failed(self, email_id: int, attempt: int, state: str, reason: str) -> None:
        async with self._session() as conn:
            await conn.execute(
                "UPDATE emails SET state = $3, last_error = $4, updated_at = now(),"  # noqa: S608
                f" lease_until = NULL, sent_at = NULL WHERE {HELD_BY}",
                email_id,
                attempt,
                state,
                reason,
            )

    async def give_up(self, email_id: int, attempt: int, reason: str) -> None:
        async with self._session() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE emails SET state = 'failed', last_error = $3, updated_at = now(),"  # noqa: S608
                f" lease_until = NULL, sent_at = NULL WHERE {HELD_BY} RETURNING tenant_id,"
                " mentee_id, source_topic, source_partition, source_offset, source_value,"
                " source_headers",
                email_id,
                attempt,
                reason,
            )
            if row is None or row["source_value"] is None:
                return  # erased or claimed again meanwhile, or from before dead letters were kept
            letter = DeadLetter(
                source_topic=row["source_topic"],
                partition=row["source_partition"],
                offset=row["source_offset"],
                key=row["mentee_id"].encode(),
                value=row["source_value"],
                reason=GAVE_UP,
                error=reason,
                service=self._service,
                original_headers={
                    **json.loads(row["source_headers"]),
                    "tenant_id": row["tenant_id"],  # lets erasure find the letter
                },
            )
            await add_dead_letter(conn, letter)

    async def reschedule(
        self,
        email_id: int,
        attempt: int,
        delay_s: float,
        reason: str,
        *,
        count_attempt: bool = True,
    ) -> None:
        """Back to `queued`, unless a newer proposal is already waiting: then superseded.

        The mentee's digest row is locked first, as the consumer does before it queues, so the
        two never both leave a waiting email for one mentee.
        """
        async with self._session() as conn, conn.transaction():
            await conn.execute(
                "SELECT 1 FROM mentee_digests d JOIN emails e ON e.tenant_id = d.tenant_id"
                " AND e.mentee_id = d.mentee_id WHERE e.id = $1 FOR UPDATE OF d",
                email_id,
            )
            held = await conn.fetchval(
                f"SELECT 1 FROM emails WHERE {HELD_BY} FOR UPDATE",  # noqa: S608 - a constant
                email_id,
                attempt,
            )
            if not held:
                return  # claimed again after this claim's lease ran out: the new claim decides
            await conn.execute(INHERIT_AWAITED, email_id)
            await conn.execute(
                "UPDATE emails e SET last_error = $3, updated_at = now(), lease_until = NULL,"
                " sent_at = NULL, attempts = attempts - $4::int,"
                " next_attempt_at = now() + make_interval(secs => $2),"
                " state = CASE WHEN EXISTS (SELECT 1 FROM emails w WHERE w.state = 'queued'"
                "   AND w.tenant_id = e.tenant_id AND w.mentee_id = e.mentee_id AND w.id <> e.id)"
                "   THEN 'superseded' ELSE 'queued' END"
                " WHERE id = $1",
                email_id,
                delay_s,
                reason,
                0 if count_attempt else 1,
            )


# A newer proposal queued while this email was being sent did not replace it (only waiting
# emails are replaced); if this one now gives way to it, the mentee still waits for the newer.
INHERIT_AWAITED = """
UPDATE emails w SET awaited = true
  FROM emails e
 WHERE e.id = $1 AND e.awaited AND NOT w.awaited AND w.state = 'queued'
   AND w.tenant_id = e.tenant_id AND w.mentee_id = e.mentee_id AND w.id <> e.id
"""


def _usable(conn: PoolConnectionProxy[asyncpg.Record]) -> bool:
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # the pool took a broken connection back already
        return False


async def _shielded(running: Awaitable[object]) -> None:
    await asyncio.shield(running)  # a cancelled waiter must not cancel the UPDATE
