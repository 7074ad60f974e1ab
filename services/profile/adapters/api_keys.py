"""Tenant-scoped API keys, stored as SHA-256 hashes (the secret is shown once, at creation).

A key reads `ml_<key id>_<secret>`; the key id finds the row, the secret is compared by hash in
constant time. The secret has 256 bits of entropy, so a fast hash is enough (no password KDF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import asyncpg

PREFIX = "ml_"


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    tenant_id: str
    token: str


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    key_id, sep, secret = token[len(PREFIX) :].partition("_")
    return (key_id, secret) if sep and key_id and secret else None


class ApiKeys:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, tenant_id: str, label: str = "") -> IssuedKey:
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        await self._pool.execute(
            "INSERT INTO api_keys (key_id, tenant_id, secret_hash, label) VALUES ($1, $2, $3, $4)",
            key_id,
            tenant_id,
            _hash(secret),
            label,
        )
        return IssuedKey(key_id, tenant_id, f"{PREFIX}{key_id}_{secret}")

    async def revoke(self, key_id: str) -> bool:
        result = await self._pool.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL",
            key_id,
        )
        return result.endswith(" 1")

    async def tenant_of(self, token: str) -> str | None:
        """The tenant a valid, unrevoked key belongs to; None for anything else."""
        parts = _split(token)
        if parts is None:
            return None
        key_id, secret = parts
        row = await self._pool.fetchrow(
            "SELECT tenant_id, secret_hash FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL",
            key_id,
        )
        if row is None or not hmac.compare_digest(bytes(row["secret_hash"]), _hash(secret)):
            return None
        return str(row["tenant_id"])
