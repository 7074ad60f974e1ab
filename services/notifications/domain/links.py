"""The signed links in a proposal email: accept and decline per mentor, unsubscribe per mentee;
"widen my criteria" when nobody suitable is left, and "undo" when the learning rule changed the
mentee's preferences. Every link that acts on the goal names the goal the proposal is for.

Signing is pure (HMAC, `shared/links.py`); the profile service verifies the tokens and serves
every link at `{base_url}/v1/links/{token}` (GET shows a confirmation page, POST acts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contracts.matches import MatchProposedPayload
from shared.links import LinkAction, LinkClaims, expiry, sign_link

UNDO = LinkAction.UNDO_ADJUSTMENT


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
    widen: str | None = None  # an empty proposal: widen the goal's criteria
    undo: str | None = None  # a learning adjustment: restore the preferences from before it


def proposal_links(
    tenant_id: str, proposal: MatchProposedPayload, signer: LinkSigner, now: datetime
) -> ProposalLinks:
    expires_at = expiry(now, signer.ttl)

    def link(action: LinkAction, mentor_id: str | None = None, on_goal: bool = False) -> str:
        claims = LinkClaims(
            action=action,
            tenant_id=tenant_id,
            mentee_id=proposal.mentee_id,
            mentor_id=mentor_id,
            proposal_id=proposal.proposal_id if mentor_id or on_goal else None,
            goal_id=proposal.goal_id if mentor_id or on_goal else None,
            adjustment_id=adjustment.adjustment_id if action is UNDO and adjustment else None,
            expires_at=expires_at,
        )
        return signer.url(claims)

    cause = proposal.cause
    adjustment = cause.adjustment if cause and cause.kind == "preferences_adjusted" else None
    undoable = adjustment is not None and adjustment.trigger != "undo"
    return ProposalLinks(
        mentors={
            m.mentor_id: MentorLinks(
                accept=link(LinkAction.ACCEPT, m.mentor_id),
                decline=link(LinkAction.DECLINE, m.mentor_id),
            )
            for m in proposal.mentors
        },
        unsubscribe=link(LinkAction.UNSUBSCRIBE),
        widen=None if proposal.mentors else link(LinkAction.WIDEN, on_goal=True),
        undo=link(UNDO, on_goal=True) if undoable else None,
    )
