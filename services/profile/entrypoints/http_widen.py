"""The "Widen my criteria" link of the waiting-list email: GET names the skills it would add,
POST adds them as the goal's next version (services/profile/service_layer/widening.py)."""

from __future__ import annotations

import uuid

from fastapi.responses import HTMLResponse

from services.profile.domain.commands import WidenGoal
from services.profile.domain.model import NotAMentee, ProfileNotFound
from services.profile.entrypoints import link_pages
from services.profile.entrypoints.link_pages import Page
from services.profile.service_layer.unit_of_work import UnitOfWork
from services.profile.service_layer.widening import (
    Outcome,
    Widening,
    preview_widening,
    widen_goal,
)
from shared.links import LinkClaims

_GOAL_CHANGED = Page(
    "Your goal has changed",
    "This link was for a goal you have changed or replaced since, so it changes nothing. "
    "The email about your current goal has links of its own.",
)
_NOTHING_TO_ADD = Page(
    "Nothing to widen right now",
    "The mentors who have your goal's skills have no other skills in common that we could "
    "add, so widening would not bring more mentors. You stay on the waiting list: when a "
    "suitable mentor joins or has room again, we email you a new choice.",
)
_ALREADY = Page("Already widened", "This link has widened your goal already.")


def _command(claims: LinkClaims) -> WidenGoal:
    assert claims.goal_id and claims.proposal_id  # checked by the router
    correlation = f"link-{uuid.uuid4().hex[:16]}"
    return WidenGoal(
        claims.tenant_id, claims.mentee_id, claims.goal_id, claims.proposal_id, correlation
    )


def _skills(skills: list[str]) -> str:
    return skills[0] if len(skills) == 1 else ", ".join(skills[:-1]) + " and " + skills[-1]


def _page(widening: Widening) -> Page:
    if widening.outcome is Outcome.CAN_WIDEN:
        return Page(
            "Widen your criteria",
            f"We would add {_skills(widening.skills)} to your goal's skills: mentors who have "
            "your goal's skills most often have these too. Mentors with one of them can then "
            "be suggested to you. Everything else about your goal stays as it is.",
            "Widen my criteria",
        )
    if widening.outcome is Outcome.WIDENED:
        return Page(
            "Your criteria are wider",
            f"Your goal now also names {_skills(widening.skills)}. We are looking again and "
            "will email you the mentors we find; if there are none yet, you stay on the "
            "waiting list.",
        )
    if widening.outcome is Outcome.ALREADY:
        return _ALREADY
    if widening.outcome is Outcome.GOAL_CHANGED:
        return _GOAL_CHANGED
    return _NOTHING_TO_ADD


async def confirm(claims: LinkClaims, uow: UnitOfWork) -> HTMLResponse:
    """What widening would add, with one button; following the link alone changes nothing."""
    try:
        return link_pages.render(_page(await preview_widening(_command(claims), uow)))
    except (NotAMentee, ProfileNotFound):
        return link_pages.render(link_pages.GONE, 410)


async def follow(claims: LinkClaims, uow: UnitOfWork) -> HTMLResponse:
    try:
        return link_pages.render(_page(await widen_goal(_command(claims), uow)))
    except (NotAMentee, ProfileNotFound):
        return link_pages.render(link_pages.GONE, 410)
