"""The signed links in lifecycle emails (served by the profile service at /v1/links/{token}).

Each names the relationship (`request_id`), both people and the goal, and who follows it
(`actor_id`: the recipient). The unsubscribe link names the recipient, mentor or mentee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.notifications.domain.lifecycle import LifecycleEmail
from services.notifications.domain.links import LinkSigner
from shared.links import LinkAction, LinkClaims, expiry


@dataclass(frozen=True)
class LifecycleLinks:
    unsubscribe: str
    accept: str | None = None  # the mentor's answer to a request
    decline: str | None = None
    fit_good: str | None = None  # the fit check
    fit_bad: str | None = None
    end: str | None = None  # every email once the relationship started


def lifecycle_links(
    tenant_id: str, email: LifecycleEmail, signer: LinkSigner, now: datetime
) -> LifecycleLinks:
    expires_at = expiry(now, signer.ttl)

    def link(action: LinkAction) -> str:
        return signer.url(
            LinkClaims(
                action=action,
                tenant_id=tenant_id,
                mentee_id=email.mentee_id,
                mentor_id=email.mentor_id,
                goal_id=email.goal_id,
                request_id=email.request_id,
                actor_id=email.recipient_id,
                expires_at=expires_at,
            )
        )

    unsubscribe = signer.url(
        LinkClaims(
            action=LinkAction.UNSUBSCRIBE,
            tenant_id=tenant_id,
            mentee_id=email.recipient_id,
            expires_at=expires_at,
        )
    )
    asking = email.kind in ("mentor_request", "request_reminder")
    return LifecycleLinks(
        unsubscribe=unsubscribe,
        accept=link(LinkAction.MENTOR_ACCEPT) if asking else None,
        decline=link(LinkAction.MENTOR_DECLINE) if asking else None,
        fit_good=link(LinkAction.FIT_GOOD) if email.kind == "fit_check" else None,
        fit_bad=link(LinkAction.FIT_BAD) if email.kind == "fit_check" else None,
        end=link(LinkAction.END) if email.ends_with_link else None,
    )
