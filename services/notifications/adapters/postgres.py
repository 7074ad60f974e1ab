"""asyncpg implementation of the notifications store (schema `notifications`)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from services.notifications.adapters.claims_sql import CLAIM_DUE, PROMOTE_HELD_REFRESHES
from services.notifications.adapters.contacts_sql import SAVE_CONTACTS
from services.notifications.adapters.erasure_sql import (
    ERASURE_LOCK,
    FORGET_IN_OTHER_DEAD_LETTERS,
    FORGET_MENTOR,
    FORGET_MENTOR_IN_CAUSES,
    FORGET_MENTOR_IN_DEAD_LETTER_CAUSES,
    FORGET_MENTOR_IN_DEAD_LETTER_MUSTS,
    FORGET_MENTOR_IN_DEAD_LETTERS,
    FORGET_MENTOR_IN_MUSTS,
    LOCK_AGAINST_ERASURE,
    LOCK_FOR_ERASURE,
)
from services.notifications.adapters.lifecycle_sql import (
    ADVANCE_RELATIONSHIP,
    CLOSE_GOAL,
    EXPLANATIONS,
    FORGET_IN_LIFECYCLE,
    QUEUE_LIFECYCLE_EMAILS,
    SAVE_GOAL_STATEMENTS,
    WITHDRAW_ASKING,
)
from services.notifications.adapters.proposals_sql import (
    BEGIN_PROPOSALS,
    QUEUE_EMAILS,
    SETTLE_DIGESTS,
)
from services.notifications.adapters.send_records import GAVE_UP, PostgresSendRecords
from services.notifications.domain.digest import GoalKey, Waiting
from services.notifications.domain.email import Contact
from services.notifications.domain.lifecycle import LifecycleEmail
from services.notifications.service_layer.ports import (
    ClaimedEmail,
    GoalStatement,
    LifecycleFacts,
    NewEmail,
    NewLifecycleEmail,
    PollState,
)
from shared.contracts.matches import MatchProposedPayload
from shared.db.idempotency import first_deliveries, first_delivery
from shared.db.types import DbConnection
from shared.erasure import Erasure, ErasureKeys, Person, PostgresErasureLog
from shared.errors import TransientError
from shared.settings import ErasureSettings

CONSUMER = "notifications"


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
        proposal=(
            MatchProposedPayload.model_validate_json(row["proposal"]) if row["proposal"] else None
        ),
        attempts=row["attempts"],
        created_at=row["created_at"],
        correlation_id=row["correlation_id"],
        contact=_contact(row) if row["user_id"] is not None else None,
        recent_sends=tuple(row["recent_sends"]),
        outdated=row["outdated"],
        goal_closed=row["goal_closed"],
        goal_statement=row["goal_statement"],
        lifecycle=(
            LifecycleEmail.model_validate_json(row["lifecycle"]) if row["lifecycle"] else None
        ),
    )


class _ErasureLogAfterLock(PostgresErasureLog):
    """Reads who was erased only once it holds the tenants' erasure lock (shared, until the
    transaction ends): no erasure then commits between that read and this transaction's
    writes about the same people (adapters/erasure_sql.py)."""

    async def find(self, people: Iterable[Person]) -> dict[Person, Erasure]:
        people = list(people)
        await self._conn.execute(
            LOCK_AGAINST_ERASURE, ERASURE_LOCK, sorted({tenant for tenant, _ in people})
        )
        return await super().find(people)


class PostgresNotificationsTransaction:
    def __init__(self, conn: DbConnection, keys: ErasureKeys) -> None:
        self._conn = conn
        self._keys = keys
        self.erasures = _ErasureLogAfterLock(conn, keys)

    async def first_delivery(self, event_id: UUID) -> bool:
        return await first_delivery(self._conn, CONSUMER, event_id)

    async def first_deliveries(self, event_ids: Sequence[UUID]) -> set[UUID]:
        return await first_deliveries(self._conn, CONSUMER, event_ids)

    async def contact_version(self, tenant_id: str, user_id: str) -> int | None:
        version: int | None = await self._conn.fetchval(
            "SELECT version FROM contacts WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE",
            tenant_id,
            user_id,
        )
        return version

    async def save_contacts(self, contacts: Sequence[tuple[Contact, int]]) -> None:
        await self._conn.execute(
            SAVE_CONTACTS,
            [c.tenant_id for c, _ in contacts],
            [c.user_id for c, _ in contacts],
            [version for _, version in contacts],
            [c.email for c, _ in contacts],
            [c.display_name for c, _ in contacts],
            [c.email_opt_in for c, _ in contacts],
            [c.timezone for c, _ in contacts],
            [c.quiet_hours_start for c, _ in contacts],
            [c.quiet_hours_end for c, _ in contacts],
        )

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        await self._conn.execute(LOCK_FOR_ERASURE, ERASURE_LOCK, tenant_id)  # polls end first
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
        await self._conn.execute(FORGET_MENTOR_IN_CAUSES, tenant_id, user_id)
        await self._conn.execute(FORGET_MENTOR_IN_MUSTS, tenant_id, user_id)
        dead_letters = (
            FORGET_MENTOR_IN_DEAD_LETTERS,
            FORGET_IN_OTHER_DEAD_LETTERS,
            FORGET_MENTOR_IN_DEAD_LETTER_CAUSES,
            FORGET_MENTOR_IN_DEAD_LETTER_MUSTS,
        )
        for sql in dead_letters:
            await self._conn.execute(sql, tenant_id, user_id, GAVE_UP)
        for sql in FORGET_IN_LIFECYCLE:
            await self._conn.execute(sql, tenant_id, user_id)

    async def begin_proposals(
        self,
        event_ids: Sequence[UUID],
        goals: Sequence[GoalKey],
        dedupe_keys: Sequence[str],
        people: Sequence[Person] = (),
    ) -> PollState:
        by_hash = self._keys.lookup(people)
        # Before the read of who was erased, so no erasure commits between it and our commit.
        await self._conn.execute(LOCK_AGAINST_ERASURE, ERASURE_LOCK, sorted({g[0] for g in goals}))
        rows = await self._conn.fetch(
            BEGIN_PROPOSALS,
            CONSUMER,
            list(event_ids),
            [g[0] for g in goals],
            [g[1] for g in goals],
            list(dedupe_keys),
            list(by_hash),
            [g[2] for g in goals],
        )
        first_seen: set[UUID] = set()
        versions: dict[GoalKey, int] = {}
        taken: set[str] = set()
        erased: dict[Person, Erasure] = {}
        for row in rows:
            if row["kind"] == "event":
                first_seen.add(UUID(row["a"]))
            elif row["kind"] == "digest":
                versions[row["a"], row["b"], row["c"]] = row["version"]
            elif row["kind"] == "erased":
                erased[by_hash[bytes.fromhex(row["a"])]] = Erasure(row["at"], row["restored"])
            else:
                taken.add(row["a"])
        return PollState(frozenset(first_seen), versions, frozenset(taken), erased)

    async def settle_digests(
        self, versions: Mapping[GoalKey, int], supersede: Mapping[GoalKey, UUID]
    ) -> dict[GoalKey, Waiting]:
        rows = await self._conn.fetch(
            SETTLE_DIGESTS,
            [g[0] for g in versions],
            [g[1] for g in versions],
            list(versions.values()),
            [g[0] for g in supersede],
            [g[1] for g in supersede],
            list(supersede.values()),
            [g[2] for g in versions],
            [g[2] for g in supersede],
        )
        advanced = next(r["advanced"] for r in rows if r["advanced"] is not None)
        if advanced != len(versions):
            # Only a concurrent writer of a digest that did not exist when the poll began can
            # get here (the others are locked): redo the poll from a fresh read.
            raise TransientError("a goal's ranking version changed under the poll")
        return {
            (r["tenant_id"], r["mentee_id"], r["goal_id"]): Waiting(
                r["next_attempt_at"], r["awaited"], r["cause"]
            )
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

    async def save_goal_statements(self, goals: Sequence[GoalStatement]) -> None:
        await self._conn.execute(
            SAVE_GOAL_STATEMENTS,
            [g.tenant_id for g in goals],
            [g.mentee_id for g in goals],
            [g.goal_id for g in goals],
            [g.version for g in goals],
            [g.statement for g in goals],
        )

    async def close_goal(self, tenant_id: str, mentee_id: str, goal_id: str, version: int) -> int:
        withdrawn: int = await self._conn.fetchval(
            CLOSE_GOAL, tenant_id, mentee_id, goal_id, version
        )
        return withdrawn

    async def advance_relationship(
        self, tenant_id: str, request_id: UUID, version: int, started: bool
    ) -> bool | None:
        now_started: bool | None = await self._conn.fetchval(
            ADVANCE_RELATIONSHIP, tenant_id, request_id, version, started
        )
        return now_started

    async def lifecycle_facts(
        self,
        tenant_id: str,
        people: tuple[str, str],
        goal_id: str,
        proposal_id: UUID | None,
    ) -> LifecycleFacts:
        mentee, mentor = people
        rows = await self._conn.fetch(
            "SELECT * FROM contacts WHERE tenant_id = $1 AND user_id = ANY($2::text[])",
            tenant_id,
            list(people),
        )
        statement: str | None = await self._conn.fetchval(
            "SELECT statement FROM goal_statements"
            " WHERE tenant_id = $1 AND mentee_id = $2 AND goal_id = $3",
            tenant_id,
            mentee,
            goal_id,
        )
        explanations = []
        if proposal_id is not None:
            found = await self._conn.fetch(EXPLANATIONS, tenant_id, mentee, proposal_id, mentor)
            explanations = [r["explanation"] for r in found]
        contacts = {r["user_id"]: _contact(r) for r in rows}
        return LifecycleFacts(contacts, statement, explanations)

    async def withdraw_asking(self, tenant_id: str, request_id: UUID) -> None:
        await self._conn.execute(WITHDRAW_ASKING, tenant_id, request_id)

    async def queue_lifecycle_emails(self, emails: Sequence[NewLifecycleEmail]) -> int:
        inserted: int = await self._conn.fetchval(
            QUEUE_LIFECYCLE_EMAILS,
            [e.dedupe_key for e in emails],
            [e.tenant_id for e in emails],
            [e.email.recipient_id for e in emails],
            [e.email.request_id for e in emails],
            [e.message_id for e in emails],
            [e.email.kind for e in emails],
            [e.email.model_dump_json() for e in emails],
            [e.correlation_id for e in emails],
            [e.email.version for e in emails],
            [e.origin.topic for e in emails],
            [e.origin.partition for e in emails],
            [e.origin.offset for e in emails],
            [e.origin.value for e in emails],
            [json.dumps(e.origin.headers) for e in emails],
        )
        return inserted


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
