"""Signed, expiring links: written once, used by notifications (sign) and profile (verify).

A token is `<base64url(claims JSON)>.<base64url(HMAC-SHA256)>`. Several keys may verify (the
first one signs), so a key can be rotated without breaking links already in inboxes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.contracts.types import TenantId, UserId

MAX_TOKEN_LENGTH = 2048


class LinkAction(StrEnum):
    """What a link does. `accept` on a proposal is the mentee's "Request an intro"."""

    ACCEPT = "accept"
    DECLINE = "decline"
    UNSUBSCRIBE = "unsubscribe"
    MENTOR_ACCEPT = "mentor_accept"  # the mentor says yes to a request
    MENTOR_DECLINE = "mentor_decline"  # the mentor says "Not now"
    FIT_GOOD = "fit_good"  # either side: "going well"
    FIT_BAD = "fit_bad"  # either side: "not a good fit", leads to the ending form
    END = "end"  # either side ends the relationship, with a reason
    UNDO_ADJUSTMENT = "undo_adjustment"  # the mentee undoes what the learning rule changed
    WIDEN = "widen"  # the mentee widens their criteria when nothing suitable is left


class LinkClaims(BaseModel):
    """What a link lets its holder do, and until when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: LinkAction
    tenant_id: TenantId
    mentee_id: UserId
    mentor_id: UserId | None = None
    proposal_id: UUID | None = None
    goal_id: str | None = None
    request_id: UUID | None = None  # the relationship a lifecycle link answers
    adjustment_id: UUID | None = None  # the adjustment an undo link restores
    actor_id: UserId | None = None  # who follows it, when not the mentee (the mentor)
    expires_at: int  # Unix seconds


class InvalidLink(Exception):  # noqa: N818 - reads as a verdict
    """Tampered, malformed or signed with an unknown key."""


class ExpiredLink(InvalidLink):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Decode unpadded base64url, accepting only the one encoding `_b64` writes.

    The decoder alone ignores the unused low bits of the last character, and it also takes
    padding and the standard alphabet; each would give one signature several spellings."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def _mac(key: bytes, body: str) -> bytes:
    return hmac.digest(key, body.encode(), hashlib.sha256)  # the one-shot C path


def expiry(now: datetime, ttl: timedelta) -> int:
    return int((now + ttl).timestamp())


def sign_link(claims: LinkClaims, key: bytes) -> str:
    # Compact JSON written by pydantic-core (an email signs a dozen links); `verify_link`
    # parses the claims, so any JSON spelling of them verifies.
    body = _b64(claims.model_dump_json().encode())
    return f"{body}.{_b64(_mac(key, body))}"


def verify_link(token: str, keys: Sequence[bytes], now: datetime | None = None) -> LinkClaims:
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise InvalidLink("malformed token")
    body, signature = token.split(".")
    try:
        given = _unb64(signature)
    except ValueError as exc:
        raise InvalidLink("malformed signature") from exc
    if not any(hmac.compare_digest(_mac(key, body), given) for key in keys):
        raise InvalidLink("bad signature")
    try:
        claims = LinkClaims.model_validate_json(_unb64(body))
    except (ValueError, ValidationError) as exc:
        raise InvalidLink("malformed claims") from exc
    moment = now or datetime.now(UTC)
    if claims.expires_at < moment.timestamp():
        raise ExpiredLink("link expired")
    return claims
