"""The signed links in proposal emails: accept, decline, unsubscribe, widen (http_widen.py).

GET shows a confirmation page and changes nothing (mail scanners prefetch links); POST acts.
No API key: the signed token is the authority and names the tenant. POST also takes the
RFC 8058 one-click body `List-Unsubscribe=One-Click`, or none.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.profile.domain.commands import RespondToProposal, Unsubscribe
from services.profile.domain.model import ProfileNotFound
from services.profile.entrypoints import http_widen, link_pages
from services.profile.entrypoints.http_support import Uow
from services.profile.service_layer import handlers
from shared.links import ExpiredLink, InvalidLink, LinkAction, LinkClaims, verify_link

router = APIRouter(prefix="/v1", tags=["email links"])


def _verified(request: Request, token: str) -> LinkClaims | HTMLResponse:
    try:
        claims = verify_link(token, request.app.state.link_keys)
    except ExpiredLink:
        return link_pages.render(link_pages.EXPIRED, 410)
    except InvalidLink:
        return link_pages.render(link_pages.INVALID, 404)
    if claims.action is LinkAction.WIDEN:  # names the goal and the email, no mentor
        valid = None not in (claims.proposal_id, claims.goal_id)
        return claims if valid else link_pages.render(link_pages.INVALID, 404)
    answers_proposal = claims.action is not LinkAction.UNSUBSCRIBE
    if answers_proposal and None in (claims.mentor_id, claims.proposal_id, claims.goal_id):
        return link_pages.render(link_pages.INVALID, 404)
    return claims


def _command(claims: LinkClaims, correlation: str) -> RespondToProposal | Unsubscribe:
    if claims.action is LinkAction.UNSUBSCRIBE:
        return Unsubscribe(claims.tenant_id, claims.mentee_id, correlation)
    assert claims.mentor_id and claims.proposal_id and claims.goal_id  # checked in _verified
    return RespondToProposal(
        claims.tenant_id,
        claims.mentee_id,
        claims.mentor_id,
        claims.proposal_id,
        claims.goal_id,
        accepted=claims.action is LinkAction.ACCEPT,
        correlation_id=correlation,
    )


async def _mentor_name(uow: Uow, claims: LinkClaims) -> str:
    if claims.mentor_id is None:
        return ""
    async with uow.transaction() as tx:
        mentor = await tx.get_profile(claims.tenant_id, claims.mentor_id)
    return mentor.display_name if mentor else "this mentor"


@router.get("/links/{token}", response_class=HTMLResponse)
async def confirm_link(token: str, request: Request, uow: Uow) -> HTMLResponse:
    """A confirmation page with one button; following the link alone changes nothing."""
    claims = _verified(request, token)
    if isinstance(claims, HTMLResponse):
        return claims
    if claims.action is LinkAction.WIDEN:
        return await http_widen.confirm(claims, uow)
    page = link_pages.confirmation(claims.action, await _mentor_name(uow, claims))
    return link_pages.render(page)


@router.post("/links/{token}", response_class=HTMLResponse)
async def follow_link(token: str, request: Request, uow: Uow) -> HTMLResponse:
    """Accept (`MatchAccepted`), decline (`MatchDeclined`) or unsubscribe; once per link."""
    claims = _verified(request, token)
    if isinstance(claims, HTMLResponse):
        return claims
    if claims.action is LinkAction.WIDEN:
        return await http_widen.follow(claims, uow)
    command = _command(claims, f"link-{uuid.uuid4().hex[:16]}")
    try:
        if isinstance(command, Unsubscribe):
            await handlers.unsubscribe(command, uow)
        else:
            await handlers.respond_to_proposal(command, uow)
    except ProfileNotFound:
        return link_pages.render(link_pages.GONE, 410)
    return link_pages.render(link_pages.done(claims.action, await _mentor_name(uow, claims)))
