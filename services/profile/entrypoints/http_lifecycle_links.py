"""The relationship links: the mentor's Accept / Not now, the fit check, the ending form and
the undo of a learning adjustment. GET shows where things stand (and a button when there is
something to do); POST acts once. Called by http_links.py once the token is verified."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.profile.domain import relationships as rel
from services.profile.domain.commands import (
    AnswerFit,
    AnswerRequest,
    EndRelationship,
    UndoAdjustment,
)
from services.profile.domain.model import ProfileNotFound
from services.profile.domain.relationships import Answer, Ending, Relationship
from services.profile.entrypoints import lifecycle_pages as pages
from services.profile.entrypoints.link_pages import GONE, Page, render
from services.profile.service_layer import lifecycle
from services.profile.service_layer.learning import UnknownAdjustment, undo_adjustment
from services.profile.service_layer.lifecycle import Lifecycle, UnknownRelationship
from shared.clock import Clock
from shared.contracts.lifecycle import ENDING_REASONS, EndingReason
from shared.links import LinkAction, LinkClaims

MENTOR_ANSWERS = (LinkAction.MENTOR_ACCEPT, LinkAction.MENTOR_DECLINE)
ENDINGS = (LinkAction.END, LinkAction.FIT_BAD)


def _actor(claims: LinkClaims) -> str:
    if claims.action in MENTOR_ANSWERS:
        return claims.actor_id or claims.mentor_id or ""
    return claims.actor_id or claims.mentee_id


async def _relationship(life: Lifecycle, claims: LinkClaims) -> tuple[Relationship, str]:
    """The link's relationship and the name of the other person, for the link's holder."""
    if claims.request_id is None:
        raise UnknownRelationship()
    async with life.uow.transaction() as tx:
        r = await tx.relationships.get(claims.tenant_id, claims.request_id)
        if r is None or r.mentee_id != claims.mentee_id or r.party(_actor(claims)) is None:
            raise UnknownRelationship()
        other_id = r.mentee_id if r.party(_actor(claims)) == "mentor" else r.mentor_id
        other = await tx.get_profile(claims.tenant_id, other_id)
    if other is None:
        raise ProfileNotFound()
    return r, other.display_name


def _context(request: Request) -> tuple[Lifecycle, datetime]:
    clock: Clock = request.app.state.clock
    return request.app.state.lifecycle, clock.now()


async def _confirm_page(claims: LinkClaims, request: Request) -> Page:
    life, now = _context(request)
    if claims.action is LinkAction.UNDO_ADJUSTMENT:
        return pages.confirm_undo()
    r, other = await _relationship(life, claims)
    if claims.action in MENTOR_ANSWERS:
        accept = claims.action is LinkAction.MENTOR_ACCEPT
        terms = await _terms(life, claims.tenant_id)
        preview = rel.accept(r, now, terms) if accept else rel.decline(r, now)
        if preview.answer is Answer.DONE:
            return pages.confirm_answer(accept, other, r)
        return pages.answered(accept, other, preview)
    if r.state != "active":
        return pages.ended(other, rel.end(r, Ending("mentee"), now), False, False)
    if claims.action is LinkAction.FIT_GOOD:
        return pages.confirm_fit(other)
    return pages.ending_form(other, fit_check=claims.action is LinkAction.FIT_BAD)


async def _terms(life: Lifecycle, tenant_id: str) -> rel.LifecycleTerms:
    async with life.uow.transaction() as tx:
        return await life.terms(tx, tenant_id)


def _ending(party: str, form: dict[str, str]) -> Ending:
    rating = form.get("rating", "")
    return Ending(
        by="mentor" if party == "mentor" else "mentee",
        reason=reason_of(form.get("reason")),
        rating=int(rating) if rating in ("1", "2", "3", "4", "5") else None,
        never_again=form.get("never_again") == "true",
    )


async def _act_page(
    claims: LinkClaims, request: Request, form: dict[str, str], correlation: str
) -> Page:
    life, now = _context(request)
    if claims.action is LinkAction.UNDO_ADJUSTMENT:
        if claims.adjustment_id is None:
            raise UnknownAdjustment()
        undo = UndoAdjustment(claims.tenant_id, claims.mentee_id, claims.adjustment_id, correlation)
        return pages.undone(await undo_adjustment(undo, life.uow))
    r, other = await _relationship(life, claims)
    actor = _actor(claims)
    if claims.action in MENTOR_ANSWERS:
        accept = claims.action is LinkAction.MENTOR_ACCEPT
        answer = AnswerRequest(claims.tenant_id, r.request_id, actor, accept, correlation)
        return pages.answered(accept, other, await lifecycle.answer_request(answer, life, now))
    if claims.action is LinkAction.FIT_GOOD:
        fit = AnswerFit(claims.tenant_id, r.request_id, actor, "good")
        return pages.fit_noted(other, await lifecycle.answer_fit(fit, life))
    party = r.party(actor)
    if claims.action is LinkAction.FIT_BAD:
        await lifecycle.answer_fit(AnswerFit(claims.tenant_id, r.request_id, actor, "bad"), life)
    ending = _ending(party or "mentee", form)
    end = EndRelationship(
        claims.tenant_id, r.request_id, ending, actor, party == "mentee", correlation
    )
    done = await lifecycle.end_relationship(end, life, now)
    return pages.ended(other, done.move, done.learned, party == "mentee")


def _known(claims: LinkClaims) -> bool:
    lifecycle_actions = (*MENTOR_ANSWERS, *ENDINGS, LinkAction.FIT_GOOD)
    return claims.action in lifecycle_actions or claims.action is LinkAction.UNDO_ADJUSTMENT


async def confirm(claims: LinkClaims, request: Request) -> HTMLResponse:
    if not _known(claims):
        return render(pages.UNKNOWN, 404)
    try:
        return render(await _confirm_page(claims, request))
    except (UnknownRelationship, UnknownAdjustment):
        return render(pages.UNKNOWN, 404)
    except ProfileNotFound:
        return render(GONE, 410)


async def act(
    claims: LinkClaims, request: Request, form: dict[str, str], correlation: str
) -> HTMLResponse:
    if not _known(claims):
        return render(pages.UNKNOWN, 404)
    try:
        return render(await _act_page(claims, request, form, correlation))
    except (UnknownRelationship, UnknownAdjustment):
        return render(pages.UNKNOWN, 404)
    except ProfileNotFound:
        return render(GONE, 410)


def reason_of(value: str | None) -> EndingReason | None:
    """One of the ending reasons, or None for anything else (the reason is optional)."""
    return cast(EndingReason, value) if value in ENDING_REASONS else None
