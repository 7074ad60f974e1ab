"""Rows that record requests rather than people: Idempotency-Keys, link answers, ingress ids."""

from __future__ import annotations

from uuid import UUID

from services.profile.service_layer.unit_of_work import (
    Admission,
    EarlierRequest,
    IdempotentRequest,
    LinkResponse,
    StoredResponse,
)
from shared.db.types import DbConnection
from shared.erasure import Erasure, ErasureKeys

# An ingress command's admission in one statement: its idempotency record (RETURNING says
# whether it is new), the tenant's usable keys and the person's latest erasure (as
# `PostgresErasureLog.find`: of every hash key, the latest), where it was three statements.
ADMIT = """
WITH first AS (
    INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)
    ON CONFLICT DO NOTHING RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM first) AS first,
       EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = $3 AND revoked_at IS NULL
                  AND (expires_at IS NULL OR expires_at > now())) AS tenant_active,
       erased.erased_at, erased.restored_at
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT erased_at, restored_at FROM erased_people
                      WHERE person_hash = ANY($4::bytea[])
                      ORDER BY erased_at DESC LIMIT 1) AS erased ON true
"""


class PostgresRequestRecords:
    def __init__(self, conn: DbConnection, keys: ErasureKeys) -> None:
        self._conn = conn
        self._keys = keys

    async def claim_request(self, request: IdempotentRequest) -> EarlierRequest | None:
        claimed = await self._conn.fetchval(
            "INSERT INTO idempotency_keys (tenant_id, idempotency_key, user_id, fingerprint)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1",
            request.tenant_id,
            request.key,
            request.user_id,
            request.fingerprint,
        )
        if claimed:
            return None
        row = await self._conn.fetchrow(
            "SELECT fingerprint, status, body, etag FROM idempotency_keys"
            " WHERE tenant_id = $1 AND idempotency_key = $2",
            request.tenant_id,
            request.key,
        )
        assert row is not None and row["status"] is not None  # claimed and answered in one tx
        response = StoredResponse(row["status"], row["body"], row["etag"])
        return EarlierRequest(bytes(row["fingerprint"]), response)

    async def remember_response(self, request: IdempotentRequest, response: StoredResponse) -> None:
        await self._conn.execute(
            "UPDATE idempotency_keys SET status = $3, body = $4, etag = $5"
            " WHERE tenant_id = $1 AND idempotency_key = $2",
            request.tenant_id,
            request.key,
            response.status,
            response.body,
            response.etag,
        )

    async def first_link_response(self, response: LinkResponse) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO link_responses (tenant_id, proposal_id, mentor_id, action, mentee_id)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
            response.tenant_id,
            response.proposal_id,
            response.mentor_id,
            response.action,
            response.mentee_id,
        )
        return inserted is not None

    async def admit_command(
        self, consumer: str, message_id: UUID, tenant_id: str, user_id: str
    ) -> Admission:
        row = await self._conn.fetchrow(
            ADMIT, consumer, message_id, tenant_id, list(self._keys.every((tenant_id, user_id)))
        )
        assert row is not None
        erased = row["erased_at"]
        erasure = Erasure(erased, row["restored_at"]) if erased is not None else None
        return Admission(row["first"], erasure, row["tenant_active"])


async def purge_expired_requests(conn: DbConnection, max_age_s: float) -> int:
    """Forget Idempotency-Key records older than `max_age_s` (a retry window, not an archive)."""
    result = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
        max_age_s,
    )
    return int(result.split()[-1])
