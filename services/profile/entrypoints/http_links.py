"""The signed links in emails: a proposal's "Request an intro" / "Not for me" / unsubscribe,
the waiting-list email's "widen" (http_widen.py), and the relationship links
(http_lifecycle_links.py).

GET shows a confirmation page and changes nothing (mail scanners prefetch links); POST acts.
No API key: the signed token is the authority and names the tenant. POST takes the page's
form fields (application/x-www-form-urlencoded), the RFC 8058 one-click body
`List-Unsubscribe=One-Click`, or none: every field is optional, so one click always acts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.profile.domain.commands import DeclineProposal, RequestIntro, Unsubscribe
from services.profile.domain.model import ProfileNotFound
from services.profile.domain.relationships import Relationship
from services.profile.entrypoints import (
    http_lifecycle_links,
    http_widen,
    lifecycle_pages,
    link_pages,
)
from services.profile.entrypoints.http_support import Uow
from services.profile.service_layer import handlers
from services.profile.service_layer.lifecycle import Lifecycle, RetryLater, request_intro
from shared.clock import Clock
from shared.links import ExpiredLink, InvalidLink, LinkAction, LinkClaims, verify_link

router = APIRouter(prefix="/v1", tags=["email links"])
PROPOSAL_ACTIONS = (LinkAction.ACCEPT, LinkAction.DECLINE)
MAX_FORM_BYTES = 4096
_LONG_AGO = datetime.fromtimestamp(0, UTC)


def _verified(request: Request, token: str) -> LinkClaims | HTMLResponse:
    clock: Clock = request.app.state.clock
    try:
        claims = verify_link(token, request.app.state.link_keys, clock.now())
    except ExpiredLink:
        # The signature is good: its action, read as of long ago, picks the page.
        action = verify_link(token, request.app.state.link_keys, _LONG_AGO).action
        if action is LinkAction.UNSUBSCRIBE:  # a mentor's too: not about proposals
            return link_pages.render(link_pages.EXPIRED_UNSUBSCRIBE, 410)
        about_proposals = action in (*PROPOSAL_ACTIONS, LinkAction.WIDEN)
        return link_pages.render(
            link_pages.EXPIRED if about_proposals else lifecycle_pages.EXPIRED, 410
        )
    except InvalidLink:
        return link_pages.render(link_pages.INVALID, 404)
    if claims.action is LinkAction.WIDEN:  # names the goal and the email, no mentor
        valid = None not in (claims.proposal_id, claims.goal_id)
        return claims if valid else link_pages.render(link_pages.INVALID, 404)
    if claims.action in PROPOSAL_ACTIONS and None in (
        claims.mentor_id,
        claims.proposal_id,
        claims.goal_id,
    ):
        return link_pages.render(link_pages.INVALID, 404)
    return claims


async def form_fields(request: Request) -> dict[str, str]:
    """The page's form, first value of each field; anything unreadable counts as no field."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    try:
        parsed = parse_qs(body.decode(), max_num_fields=16)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in parsed.items() if values}


async def _mentor_name(uow: Uow, claims: LinkClaims) -> str:
    if claims.mentor_id is None:
        return ""
    async with uow.transaction() as tx:
        mentor = await tx.get_profile(claims.tenant_id, claims.mentor_id)
    return mentor.display_name if mentor else "this mentor"


@router.get("/links/{token}", response_class=HTMLResponse)
async def confirm_link(token: str, request: Request, uow: Uow) -> HTMLResponse:
    """A confirmation page with one button (and optional fields); following the link alone
    changes nothing."""
    claims = _verified(request, token)
    if isinstance(claims, HTMLResponse):
        return claims
    if claims.action is LinkAction.WIDEN:
        return await http_widen.confirm(claims, uow)
    if claims.action not in (*PROPOSAL_ACTIONS, LinkAction.UNSUBSCRIBE):
        return await http_lifecycle_links.confirm(claims, request)
    mentor = await _mentor_name(uow, claims)
    if claims.action is LinkAction.ACCEPT and (earlier := await _earlier_request(uow, claims)):
        return link_pages.render(lifecycle_pages.asked_before(mentor, earlier))
    return link_pages.render(link_pages.confirmation(claims.action, mentor))


async def _earlier_request(uow: Uow, claims: LinkClaims) -> Relationship | None:
    """The request this "Request an intro" link made already, if any."""
    assert claims.mentor_id and claims.proposal_id  # checked in _verified
    async with uow.transaction() as tx:
        return await tx.relationships.for_proposal(
            claims.tenant_id, claims.proposal_id, claims.mentor_id
        )


def _about_proposal(claims: LinkClaims) -> tuple[str, str, str, UUID, str]:
    assert claims.mentor_id and claims.proposal_id and claims.goal_id  # checked in _verified
    return (
        claims.tenant_id,
        claims.mentee_id,
        claims.mentor_id,
        claims.proposal_id,
        claims.goal_id,
    )


async def _request_intro(claims: LinkClaims, request: Request, correlation: str) -> HTMLResponse:
    command = RequestIntro(*_about_proposal(claims), correlation)
    life: Lifecycle = request.app.state.lifecycle
    clock: Clock = request.app.state.clock
    try:
        outcome = await request_intro(command, life, clock.now())
    except RetryLater:  # the same link, posted twice at once: the other post made the request
        outcome = await request_intro(command, life, clock.now())
    mentor = await _mentor_name(life.uow, claims)
    if outcome.refusal is not None:
        return link_pages.render(lifecycle_pages.refused(outcome.refusal, mentor, outcome.terms))
    assert outcome.relationship is not None
    if outcome.replayed:
        return link_pages.render(lifecycle_pages.asked_before(mentor, outcome.relationship))
    return link_pages.render(lifecycle_pages.asked(mentor, outcome.relationship))


async def _decline(
    claims: LinkClaims, request: Request, uow: Uow, correlation: str
) -> HTMLResponse:
    reason = (await form_fields(request)).get("reason")
    known = {value for value, _ in link_pages.DECLINE_REASONS}
    command = DeclineProposal(
        *_about_proposal(claims), correlation, reason if reason in known else None
    )
    declined = await handlers.decline_proposal(command, uow)
    mentor = await _mentor_name(uow, claims)
    page = link_pages.declined(mentor, declined.learned, declined.withdrew)
    return link_pages.render(page)


@router.post("/links/{token}", response_class=HTMLResponse)
async def follow_link(token: str, request: Request, uow: Uow) -> HTMLResponse:
    """Request an intro (`MatchRequested`), decline (`MatchDeclined`), unsubscribe, or a
    relationship link; each has its effect once however often it is posted."""
    claims = _verified(request, token)
    if isinstance(claims, HTMLResponse):
        return claims
    if claims.action is LinkAction.WIDEN:
        return await http_widen.follow(claims, uow)
    correlation = f"link-{uuid.uuid4().hex[:16]}"
    try:
        if claims.action is LinkAction.ACCEPT:
            return await _request_intro(claims, request, correlation)
        if claims.action is LinkAction.DECLINE:
            return await _decline(claims, request, uow, correlation)
        if claims.action is LinkAction.UNSUBSCRIBE:
            command = Unsubscribe(claims.tenant_id, claims.mentee_id, correlation)
            await handlers.unsubscribe(command, uow)
            return link_pages.render(link_pages.unsubscribed())
    except ProfileNotFound:
        return link_pages.render(link_pages.GONE, 410)
    return await http_lifecycle_links.act(claims, request, await form_fields(request), correlation)
