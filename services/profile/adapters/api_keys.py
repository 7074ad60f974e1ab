"""Tenant-scoped API keys, stored as SHA-256 hashes (the secret is shown once, at creation).

A key reads `ml_<key id>_<secret>`; the key id finds the row, the secret is compared by hash in
constant time. The secret has 256 bits of entropy, so a fast hash is enough (no password KDF).
Rotation issues a new key for the same tenant and label and lets the old one live for a grace
period, so an integrator can switch without downtime; revocation ends a key at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import asyncpg

PREFIX = "ml_"
_USABLE = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    tenant_id: str
    token: str


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    tenant_id: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class UnknownKey(Exception):  # noqa: N818 - reads as a verdict
    """No usable key with this id."""


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    key_id, sep, secret = token[len(PREFIX) :].partition("_")
    # Key ids are hex (`create`); anything else, a NUL included, never reaches PostgreSQL.
    plausible = key_id.isascii() and key_id.isalnum()
    return (key_id, secret) if sep and plausible and secret else None


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

    async def rotate(self, key_id: str, grace_s: float = 0) -> IssuedKey:
        """A new key for the same tenant and label; the old one stops working after `grace_s`."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"UPDATE api_keys SET expires_at = least(coalesce(expires_at, 'infinity'),"  # noqa: S608
                f" now() + make_interval(secs => $2)) WHERE key_id = $1 AND {_USABLE}"
                " RETURNING tenant_id, label",
                key_id,
                grace_s,
            )
            if row is None:
                raise UnknownKey(key_id)
        return await self.create(row["tenant_id"], row["label"])

    async def revoke(self, key_id: str) -> bool:
        result = await self._pool.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL",
            key_id,
        )
        return result.endswith(" 1")

    async def list(self, tenant_id: str) -> list[KeyInfo]:
        rows = await self._pool.fetch(
            "SELECT key_id, tenant_id, label, created_at, expires_at, revoked_at FROM api_keys"
            " WHERE tenant_id = $1 ORDER BY created_at",
            tenant_id,
        )
        return [KeyInfo(**dict(r)) for r in rows]

    async def tenant_of(self, token: str) -> str | None:
        """The tenant a valid, unrevoked, unexpired key belongs to; None for anything else."""
        parts = _split(token)
        if parts is None:
            return None
        key_id, secret = parts
        row = await self._pool.fetchrow(
            f"SELECT tenant_id, secret_hash FROM api_keys WHERE key_id = $1 AND {_USABLE}",  # noqa: S608
            key_id,
        )
        if row is None or not hmac.compare_digest(bytes(row["secret_hash"]), _hash(secret)):
            return None
        return str(row["tenant_id"])
