"""The signed links in a proposal email: accept and decline per mentor, unsubscribe per mentee.

Signing is pure (HMAC, `shared/links.py`); the profile service verifies the tokens and serves
every link at `{base_url}/v1/links/{token}` (GET shows a confirmation page, POST acts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contracts.matches import MatchProposedPayload
from shared.links import LinkAction, LinkClaims, expiry, sign_link


@dataclass(frozen=True)
class LinkSigner:
    base_url: str
    key: bytes
    ttl: timedelta

    def url(self, claims: LinkClaims) -> str:
        return f"{self.base_url.rstrip('/')}/v1/links/{sign_link(claims, self.key)}"


@dataclass(frozen=True)
class MentorLinks:
    accept: str
    decline: str


@dataclass(frozen=True)
class ProposalLinks:
    mentors: dict[str, MentorLinks]  # by mentor id
    unsubscribe: str


def proposal_links(
    tenant_id: str, proposal: MatchProposedPayload, signer: LinkSigner, now: datetime
) -> ProposalLinks:
    expires_at = expiry(now, signer.ttl)

    def link(action: LinkAction, mentor_id: str | None = None) -> str:
        claims = LinkClaims(
            action=action,
            tenant_id=tenant_id,
            mentee_id=proposal.mentee_id,
            mentor_id=mentor_id,
            proposal_id=proposal.proposal_id if mentor_id else None,
            goal_id=proposal.goal_id if mentor_id else None,
            expires_at=expires_at,
        )
        return signer.url(claims)

    return ProposalLinks(
        mentors={
            m.mentor_id: MentorLinks(
                accept=link(LinkAction.ACCEPT, m.mentor_id),
                decline=link(LinkAction.DECLINE, m.mentor_id),
            )
            for m in proposal.mentors
        },
        unsubscribe=link(LinkAction.UNSUBSCRIBE),
    )
