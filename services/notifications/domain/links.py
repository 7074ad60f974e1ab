"""The signed links in a proposal email: accept and decline per mentor, unsubscribe per mentee;
"widen my criteria" when nobody suitable is left, and "undo" when the learning rule changed the
mentee's preferences. Every link that acts on the goal names the goal the proposal is for.

Signing is pure (HMAC, `shared/links.py`); the profile service verifies the tokens and serves
every link at `{base_url}/v1/links/{token}` (GET shows a confirmation page, POST acts).
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from shared.contracts.matches import MatchProposedPayload
from shared.links import LinkAction, LinkClaims, expiry, sign_link

UNDO = LinkAction.UNDO_ADJUSTMENT
# Text that JSON writes as it is (no quote, backslash, control or non-ASCII character): claims
# made only of such text are written here as pydantic-core writes `LinkClaims`, byte for byte.
_PLAIN = re.compile(r"[A-Za-z0-9 ._:@+#/&-]*")


@dataclass(frozen=True)
class LinkSigner:
    """Signs as `shared.links.sign_link` does. The proposal links, a dozen and more per email,
    are written without building and serialising a `LinkClaims` each, and the key's HMAC
    state is computed once and copied for each link."""

    base_url: str
    key: bytes
    ttl: timedelta
    _pads: tuple[Any, Any] = field(init=False, repr=False, compare=False)
    _prefix: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pads", _hmac_pads(self.key))
        object.__setattr__(self, "_prefix", f"{self.base_url.rstrip('/')}/v1/links/")

    def mac(self, body: bytes) -> bytes:
        """HMAC-SHA256 (RFC 2104) of `body`, from the key's two padded states."""
        inner, outer = self._pads[0].copy(), self._pads[1].copy()
        inner.update(body)
        outer.update(inner.digest())
        return outer.digest()  # type: ignore[no-any-return]

    def url(self, claims: LinkClaims) -> str:
        return f"{self._prefix}{sign_link(claims, self.key)}"

    def proposal_url(
        self, claims: ProposalClaims, action: LinkAction, mentor_id: str | None
    ) -> str:
        """The link of `action` (about `mentor_id`, if any), with the email's common claims."""
        if not claims.plain or not (mentor_id is None or _PLAIN.fullmatch(mentor_id)):
            return self.url(claims.full(action, mentor_id))
        on_goal = mentor_id is not None or action in (LinkAction.WIDEN, UNDO)
        body = _b64(
            f'{{"action":"{action.value}","tenant_id":"{claims.tenant_id}",'
            f'"mentee_id":"{claims.mentee_id}","mentor_id":{_text(mentor_id)},'
            f'"proposal_id":{_text(claims.proposal_id if on_goal else None)},'
            f'"goal_id":{_text(claims.goal_id if on_goal else None)},"request_id":null,'
            f'"adjustment_id":{_text(claims.adjustment_id if action is UNDO else None)},'
            f'"actor_id":null,"expires_at":{claims.expires_at}}}'.encode()
        )
        return f"{self._prefix}{body}.{_b64(self.mac(body.encode()))}"


@dataclass(frozen=True)
class ProposalClaims:
    """What every link of one proposal email names: the tenant, the mentee, the proposal and
    its goal, the adjustment an undo link restores, and the expiry."""

    tenant_id: str
    mentee_id: str
    proposal_id: str
    goal_id: str
    adjustment_id: str | None
    expires_at: int

    plain: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        texts = (self.tenant_id, self.mentee_id, self.goal_id)
        object.__setattr__(self, "plain", all(_PLAIN.fullmatch(text) for text in texts))

    def full(self, action: LinkAction, mentor_id: str | None) -> LinkClaims:
        on_goal = mentor_id is not None or action in (LinkAction.WIDEN, UNDO)
        adjustment = self.adjustment_id if action is UNDO else None
        return LinkClaims(
            action=action,
            tenant_id=self.tenant_id,
            mentee_id=self.mentee_id,
            mentor_id=mentor_id,
            proposal_id=UUID(self.proposal_id) if on_goal else None,
            goal_id=self.goal_id if on_goal else None,
            adjustment_id=UUID(adjustment) if adjustment else None,
            expires_at=self.expires_at,
        )


def _text(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> str:
    """Unpadded base64url, as `shared.links` writes it."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _hmac_pads(key: bytes) -> tuple[Any, Any]:
    block = hashlib.sha256().block_size
    padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))
    return inner, outer


@dataclass(frozen=True)
class MentorLinks:
    accept: str
    decline: str


@dataclass(frozen=True)
class ProposalLinks:
    mentors: dict[str, MentorLinks]  # by mentor id
    unsubscribe: str
    widen: str | None = None  # an empty proposal: widen the goal's criteria
    undo: str | None = None  # a learning adjustment: restore the preferences from before it


def proposal_links(
    tenant_id: str, proposal: MatchProposedPayload, signer: LinkSigner, now: datetime
) -> ProposalLinks:
    cause = proposal.cause
    adjustment = cause.adjustment if cause and cause.kind == "preferences_adjusted" else None
    undoable = adjustment is not None and adjustment.trigger != "undo"
    claims = ProposalClaims(
        tenant_id=tenant_id,
        mentee_id=proposal.mentee_id,
        proposal_id=str(proposal.proposal_id),
        goal_id=proposal.goal_id,
        adjustment_id=str(adjustment.adjustment_id) if adjustment else None,
        expires_at=expiry(now, signer.ttl),
    )
    url = signer.proposal_url
    return ProposalLinks(
        mentors={
            m.mentor_id: MentorLinks(
                accept=url(claims, LinkAction.ACCEPT, m.mentor_id),
                decline=url(claims, LinkAction.DECLINE, m.mentor_id),
            )
            for m in proposal.mentors
        },
        unsubscribe=url(claims, LinkAction.UNSUBSCRIBE, None),
        widen=None if proposal.mentors else url(claims, LinkAction.WIDEN, None),
        undo=url(claims, UNDO, None) if undoable else None,
    )
