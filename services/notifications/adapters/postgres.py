"""asyncpg implementation of the notifications store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from services.notifications.domain.email import Contact
from services.notifications.service_layer.ports import ClaimedEmail
from shared.contracts.matches import MatchProposedPayload
from shared.db.idempotency import first_delivery
from shared.db.types import DbConnection

CONSUMER = "notifications"


def _contact(row: asyncpg.Record) -> Contact:
    return Contact(
        tenant_id=row["tenant_id"],
        user_id=row["user_id"],
        email=row["email"],
        display_name=row["display_name"],
        email_opt_in=row["email_opt_in"],
        timezone=row["timezone"],
    )


class PostgresNotificationsTransaction:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

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
            "INSERT INTO contacts (tenant_id, user_id, version, email, display_name, email_opt_in,"
            " timezone) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, user_id)"
            " DO UPDATE SET version = EXCLUDED.version, email = EXCLUDED.email,"
            " display_name = EXCLUDED.display_name, email_opt_in = EXCLUDED.email_opt_in,"
            " timezone = EXCLUDED.timezone",
            contact.tenant_id,
            contact.user_id,
            version,
            contact.email,
            contact.display_name,
            contact.email_opt_in,
            contact.timezone,
        )

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        await self._conn.execute(
            "DELETE FROM contacts WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
        )
        await self._conn.execute(
            "DELETE FROM emails WHERE tenant_id = $1 AND mentee_id = $2", tenant_id, user_id
        )

    async def queue_email(
        self,
        dedupe_key: str,
        message_id: str,
        proposal: MatchProposedPayload,
        tenant_id: str,
        correlation_id: str | None,
    ) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id,"
            " proposal, correlation_id) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1",
            dedupe_key,
            tenant_id,
            proposal.mentee_id,
            proposal.proposal_id,
            message_id,
            proposal.model_dump_json(),
            correlation_id,
        )
        return inserted is not None


class PostgresNotificationsStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresNotificationsTransaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PostgresNotificationsTransaction(conn)

    async def claim_due(self, limit: int, lease_s: float) -> list[ClaimedEmail]:
        rows = await self._pool.fetch(
            "UPDATE emails SET state = 'sending', attempts = attempts + 1, updated_at = now(),"
            " lease_until = now() + make_interval(secs => $2)"
            " WHERE id IN (SELECT id FROM emails WHERE next_attempt_at <= now() AND"
            "   (state = 'queued' OR (state = 'sending' AND lease_until < now()))"
            "   ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, tenant_id, mentee_id, message_id, proposal, attempts, created_at,"
            " correlation_id",
            limit,
            lease_s,
        )
        return [
            ClaimedEmail(
                id=r["id"],
                tenant_id=r["tenant_id"],
                mentee_id=r["mentee_id"],
                message_id=r["message_id"],
                proposal=MatchProposedPayload.model_validate_json(r["proposal"]),
                attempts=r["attempts"],
                created_at=r["created_at"],
                correlation_id=r["correlation_id"],
            )
            for r in rows
        ]

    async def contact(self, tenant_id: str, user_id: str) -> Contact | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM contacts WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
        )
        return _contact(row) if row else None

    async def mark_sent(self, email_id: int) -> None:
        await self._pool.execute(
            "UPDATE emails SET state = 'sent', sent_at = now(), updated_at = now(),"
            " lease_until = NULL, last_error = NULL WHERE id = $1",
            email_id,
        )

    async def mark_failed(self, email_id: int, state: str, reason: str) -> None:
        await self._pool.execute(
            "UPDATE emails SET state = $2, last_error = $3, updated_at = now(), lease_until = NULL"
            " WHERE id = $1",
            email_id,
            state,
            reason,
        )

    async def reschedule(
        self, email_id: int, delay_s: float, reason: str, *, count_attempt: bool = True
    ) -> None:
        await self._pool.execute(
            "UPDATE emails SET state = 'queued', last_error = $3, updated_at = now(),"
            " attempts = attempts - $4::int,"
            " lease_until = NULL, next_attempt_at = now() + make_interval(secs => $2)"
            " WHERE id = $1",
            email_id,
            delay_s,
            reason,
            0 if count_attempt else 1,
        )
